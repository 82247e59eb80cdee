// Where worlds of older versions kept their state on the host, and where the host's CNI plugins are.
import {
  accessSync,
  constants,
  existsSync,
  lstatSync,
  mkdirSync,
  readlinkSync,
  realpathSync,
  readdirSync,
  readFileSync,
  rmSync,
  chmodSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { isAlive } from './procfs.js';
import { dirname, join } from 'node:path';

/** Directories searched for the system's CNI plugins, in priority order (Debian: /usr/lib/cni). */
export const PLUGIN_DIRS = ['/opt/cni/bin', '/usr/libexec/cni', '/usr/lib/cni'] as const;

/** The CNI plugins the labs are written for (they speak CNI 1.1.0: STATUS and GC). */
export const PINNED_PLUGINS_VERSION = '1.9.1';

/** The app's install folder (the one with package.json above this module, in src-main/ or out/). */
export function appRoot(): string {
  let d = import.meta.dirname;
  while (d !== '/' && !existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
}

/** Where set-up keeps the pinned binaries it took from Debian's archive (scripts/pinned.mjs). */
export function pinnedDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PODNET_PINNED_DIR || join(appRoot(), 'pinned');
}

/** The real containerd 2.1.9 and runc set-up took from Debian's archive (a real path), or undefined. */
export function containerdBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const d = join(pinnedDir(env), 'containerd', 'bin');
  return existsSync(join(d, 'containerd')) && existsSync(join(d, 'runc')) ? realpathSync(d) : undefined;
}

/** The pinned control plane's binaries (kubectl 1.36, etcd and etcdctl 3.4), if set-up fetched them. */
export function controlPlaneBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const d = join(pinnedDir(env), 'control-plane', 'bin');
  return ['kubectl', 'etcd', 'etcdctl'].every((b) => existsSync(join(d, b))) ? realpathSync(d) : undefined;
}

/** The version of the pinned containerd package (from its stamp), e.g. "2.1.9+ds1-5". */
export function containerdPackageVersion(env: NodeJS.ProcessEnv = process.env): string | undefined {
  try {
    const stamp = readFileSync(join(pinnedDir(env), 'containerd', '.pinned'), 'utf8');
    return /^containerd (\S+)$/m.exec(stamp.split('\n---\n')[1] ?? '')?.[1];
  } catch {
    return undefined;
  }
}

/** The CRI's gRPC definition (k8s.io/cri-api runtime/v1 api.proto, Debian's), or undefined. */
export function criApiProto(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const f = join(pinnedDir(env), 'cri-api', 'api.proto');
  return existsSync(f) ? f : undefined;
}

/** The statically linked pause the real containerd's sandbox image holds (scripts/build-native.mjs). */
export function pauseStaticPath(): string | undefined {
  const f = join(appRoot(), 'out', 'native', 'pause-static');
  return existsSync(f) ? f : undefined;
}

/** The plugin set a world uses, where it comes from, and its version when known. */
export interface PluginSet {
  dirs: string[];
  source: 'PODNET_CNI_PATH' | 'pinned' | 'system';
  /** e.g. "1.9.1+ds1-1" for the pinned set */
  version?: string;
}

/** A folder's real path: the world binds it into its root, and a bind through a link would not be the folder. */
const real = (d: string) => {
  try {
    return realpathSync(d);
  } catch {
    return d;
  }
};

const hasFiles = (d: string) => {
  try {
    return statSync(d).isDirectory() && readdirSync(d).length > 0;
  } catch {
    return false;
  }
};

/**
 * PODNET_CNI_PATH (colon-separated) when set; else the pinned 1.9.1 set set-up took from Debian's
 * archive; else, as a fallback, the system's own plugins (Debian 12's are 1.1.1: no STATUS, no GC).
 */
export function pluginSet(env: NodeJS.ProcessEnv = process.env): PluginSet {
  if (env.PODNET_CNI_PATH)
    return {
      dirs: env.PODNET_CNI_PATH.split(':').filter(Boolean).filter(hasFiles).map(real),
      source: 'PODNET_CNI_PATH',
    };
  const pinned = join(pinnedDir(env), 'cni-plugins');
  if (hasFiles(join(pinned, 'bin'))) {
    let version: string | undefined;
    try {
      // the stamp's second part names the Debian package and its exact version
      version = /containernetworking-plugins (\S+)/.exec(
        readFileSync(join(pinned, '.pinned'), 'utf8').split('---')[1] ?? '',
      )?.[1];
    } catch {
      /* no stamp: a set put there by hand */
    }
    return { dirs: [real(join(pinned, 'bin'))], source: 'pinned', ...(version ? { version } : {}) };
  }
  return { dirs: PLUGIN_DIRS.filter(hasFiles), source: 'system' };
}

/** The plugin set in words, for the timeline's header and `podnet trace`: the plugins are real, not modelled. */
export function describePluginSet(set: PluginSet = pluginSet()): string {
  if (set.source === 'pinned') return `the real CNI plugins ${set.version ?? PINNED_PLUGINS_VERSION} (pinned)`;
  if (set.source === 'system')
    return `the system's CNI plugins (${set.dirs.join(', ')}; not the pinned ${PINNED_PLUGINS_VERSION}: run podnet doctor)`;
  return `the CNI plugins in PODNET_CNI_PATH (${set.dirs.join(', ')})`;
}

/** Host directories holding the CNI plugins a world uses (pluginSet's). */
export function hostPluginDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return pluginSet(env).dirs;
}

/** A state folder that cannot be used safely: a symlink, someone else's, or writable by others. */
export class StateRootError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateRootError';
  }
}

/**
 * Makes `dir` if missing (0700) and checks that it is the user's own: a real folder (not a symlink),
 * owned by this user, not writable by group or others. Another user can create /tmp/podnet-<uid>
 * before the app first runs; a state folder they control would let them change a world's files.
 */
export function ensureOwnFolder(dir: string): void {
  const uid = process.getuid?.() ?? 0;
  mkdirSync(dirname(dir), { recursive: true, mode: 0o700 });
  try {
    // not recursive: an existing entry (a symlink someone planted) is an error here, never followed
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = lstatSync(dir);
  const fix = `remove it, or set PODNET_STATE_DIR to a folder of your own`;
  if (st.isSymbolicLink()) {
    let to = '';
    try {
      to = ` (to ${readlinkSync(dir)})`;
    } catch {
      /* gone meanwhile */
    }
    throw new StateRootError(`the state folder ${dir} is a symbolic link${to}: refused; ${fix}`);
  }
  if (!st.isDirectory()) throw new StateRootError(`the state folder ${dir} is not a folder: refused; ${fix}`);
  if (st.uid !== uid)
    throw new StateRootError(
      `the state folder ${dir} is owned by uid ${st.uid}, not by you (uid ${uid}): refused; ${fix}`,
    );
  if (st.mode & 0o022)
    throw new StateRootError(
      `the state folder ${dir} can be written by its group or others (mode ${(st.mode & 0o7777).toString(8)}): refused; chmod 700 it, or ${fix}`,
    );
}

/**
 * The root under which worlds of older versions kept their state on the host (one folder per world),
 * swept at start. The first usable candidate; one that exists but is not the user's own
 * (ensureOwnFolder) stops the search with its reason, rather than silently falling back: the sweep
 * removes folders there.
 */
export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  const uid = process.getuid?.() ?? 0;
  const candidates = [
    env.PODNET_STATE_DIR,
    env.XDG_RUNTIME_DIR && join(env.XDG_RUNTIME_DIR, 'podnet'),
    join(tmpdir(), `podnet-${uid}`),
  ];
  for (const c of candidates) {
    // overlayfs options are comma- and colon-separated: such a path cannot be used.
    if (!c || /[,:\s\\]/.test(c)) continue;
    try {
      ensureOwnFolder(c);
      accessSync(c, constants.W_OK);
      return c;
    } catch (e) {
      if (e instanceof StateRootError) throw e;
      /* try the next */
    }
  }
  throw new Error('no writable state directory: set PODNET_STATE_DIR to a writable folder');
}

/**
 * Removes state folders of worlds whose engine is gone. A world now keeps its state in its own tmpfs
 * (nothing on the host's disk); this clears what worlds of older versions left on the host.
 */
export function sweepStaleWorlds(root: string): string[] {
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(root);
  } catch {
    return removed;
  }
  for (const name of entries) {
    const m = /^world-(\d+)-[0-9a-f]+$/.exec(name);
    if (!m) continue;
    const dir = join(root, name);
    let initPid = 0;
    try {
      initPid = Number(readFileSync(join(dir, 'init.pid'), 'utf8'));
    } catch {
      /* no init pid yet */
    }
    if (isAlive(Number(m[1])) || (initPid > 0 && isAlive(initPid))) continue;
    forceRemove(dir);
    removed.push(dir);
  }
  return removed;
}

/** rm -rf that also enters the mode-000 "work" folders overlayfs leaves behind. */
export function forceRemove(dir: string): void {
  const open = (d: string): void => {
    try {
      chmodSync(d, 0o700);
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) open(join(d, e.name));
    } catch {
      /* best effort */
    }
  };
  if (!existsSync(dir)) return;
  open(dir);
  rmSync(dir, { recursive: true, force: true });
}
