// Where the desktop app runs its worlds: natively (this machine's namespaces) or in the bundled VM. Asked
// for on the command line, remembered in the app's settings, or decided by what this machine can do —
// and on a Linux that cannot make a world's namespaces, offered to the learner rather than failing later.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../fs/atomic-write.js';

export type Backend = 'native' | 'vm';

export interface BackendSettings {
  /** The learner's remembered choice; absent: decided each start. */
  backend?: Backend;
}

export type BackendChoice =
  | { backend: Backend; why: string }
  /** Worlds cannot start natively here: offer the VM (why: the probe's finding). */
  | { backend: 'ask'; why: string };

export interface ChoiceInputs {
  argv: readonly string[];
  platform: NodeJS.Platform;
  settings: BackendSettings;
  /** Whether a world's namespaces can be made here (doctor's userNamespaceCheck); only run on Linux. */
  nativeWorks: () => { ok: boolean; detail: string };
}

export function chooseBackend({ argv, platform, settings, nativeWorks }: ChoiceInputs): BackendChoice {
  if (argv.includes('--vm')) return { backend: 'vm', why: 'asked for with --vm' };
  if (argv.includes('--native')) return { backend: 'native', why: 'asked for with --native' };
  // worlds are Linux namespaces: elsewhere there is nothing to choose
  if (platform !== 'linux')
    return { backend: 'vm', why: `worlds are Linux network namespaces: on ${platform} they run in the bundled VM` };
  if (settings.backend) return { backend: settings.backend, why: "the app's settings say so" };
  const probe = nativeWorks();
  if (probe.ok) return { backend: 'native', why: "this machine's user namespaces work" };
  return { backend: 'ask', why: probe.detail };
}

/**
 * The settings file, read leniently: a missing file is no settings, and a broken one is reported and
 * ignored (the app still starts, and the next saved choice replaces it).
 */
export function readBackendSettings(file: string, warn: (s: string) => void = console.warn): BackendSettings {
  if (!existsSync(file)) return {};
  try {
    const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error('not a JSON object');
    const backend = (raw as { backend?: unknown }).backend;
    if (backend === undefined) return {};
    if (backend !== 'native' && backend !== 'vm') throw new Error(`"backend" is ${JSON.stringify(backend)}`);
    return { backend };
  } catch (e) {
    warn(`podnet: ignoring the settings in ${file} (${(e as Error).message}); expected {"backend": "native" | "vm"}`);
    return {};
  }
}

/** A crash mid-write leaves the old settings, never half of them. */
export function saveBackendSettings(file: string, settings: BackendSettings): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, `${JSON.stringify(settings, null, 2)}\n`, { mode: 0o600 });
}

/** What the offer says: why the worlds cannot start here, and what the VM changes (nothing on this machine). */
export function vmOffer(why: string): { message: string; detail: string; buttons: [string, string] } {
  return {
    message: "Lab worlds cannot start on this machine's kernel",
    detail:
      `${why}\n\nPodnet Lab can run them in its bundled VM instead (QEMU, a small Linux guest with the same ` +
      `engine and labs): nothing on this machine changes, and your lab progress stays here. Starting it takes ` +
      `a few seconds with hardware virtualisation, a minute or more without.\n\n` +
      `Or continue without it: the world's start will fail, and say how to fix this machine (as \`podnet doctor\` does).`,
    buttons: ['Use the bundled VM', 'Continue without it'],
  };
}
