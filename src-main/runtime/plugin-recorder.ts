// The recording shims: one per real plugin in a node's /opt/cni/bin, so that every CNI call is seen —
// the real containerd's (its log says only "begin cni setup") and the model's alike, nested IPAM
// calls included: the environment, stdin, stdout and exit status, in the order the calls began.
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_PATHS, shq, type World } from '../world/world.js';

/** Where a node's shims write (the node's own folder, bound there by ContainerdDaemon or recordPluginCalls). */
export const RECORDS_DIR = '/run/podnet-cni-calls';

/** One plugin call as a shim saw it. */
export interface PluginCall {
  /** When it began (ns since the epoch, from the node's clock) and the shim's PID: the order of calls. */
  startNs: bigint;
  pid: number;
  plugin: string;
  /** The CNI_* variables (the rest of the environment is the caller's and is not compared). */
  env: Record<string, string>;
  stdin: string;
  stdout: string;
  exit: number;
}

/** The shim for one plugin: records, then runs the real one with the same stdin, stdout passed on. */
export function recorderScript(real: string): string {
  return `#!/bin/sh
# Podnet Lab's recording shim: this CNI call is saved in ${RECORDS_DIR}, then ${real} runs it.
n=${RECORDS_DIR}/$(date +%s%N).$$.$(basename "$0")
env | grep '^CNI_' > "$n.env"
cat > "$n.stdin"
${shq(real)} < "$n.stdin" > "$n.stdout"
rc=$?
echo $rc > "$n.exit"
cat "$n.stdout"
exit $rc
`;
}

/** Each real plugin, by name: the first folder that has it wins, as in the node's overlay. */
export function realPlugins(dirs: string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const d of dirs) {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const name of names) {
      const p = join(d, name);
      try {
        const st = statSync(p);
        if (st.isFile() && st.mode & 0o111 && !found.has(name)) found.set(name, p);
      } catch {
        /* gone */
      }
    }
  }
  return found;
}

/** The calls recorded in `dir` (an engine path), in the order they began; those in `skip` (by file stem) are not read. */
export function readPluginCalls(dir: string, skip: ReadonlySet<string> = new Set()): PluginCall[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  const calls: PluginCall[] = [];
  for (const f of files.filter((x) => x.endsWith('.exit'))) {
    const stem = f.slice(0, -'.exit'.length);
    if (skip.has(stem)) continue;
    const [ns, pid, ...rest] = stem.split('.');
    const read = (ext: string) => {
      try {
        return readFileSync(join(dir, `${stem}.${ext}`), 'utf8');
      } catch {
        return '';
      }
    };
    const env = Object.fromEntries(
      read('env')
        .split('\n')
        .filter(Boolean)
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    calls.push({
      startNs: BigInt(ns!),
      pid: Number(pid),
      plugin: rest.join('.'),
      env,
      stdin: read('stdin'),
      stdout: read('stdout'),
      exit: Number(read('exit').trim()),
    });
  }
  return calls.sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : a.pid - b.pid));
}

/**
 * Puts a recording shim in place of every real plugin on `node` (model or real runtime alike) and
 * returns the engine's path to the records. Each shim is bound over its plugin's name in the node's
 * /opt/cni/bin: the overlay is not written (an unprivileged world could not copy a host file up).
 */
export async function recordPluginCalls(world: World, node: string): Promise<string> {
  const folder = join(world.stateDir, 'nodes', node);
  const plugins = realPlugins(world.pluginDirs);
  mkdirSync(join(folder, 'cni-calls'), { recursive: true });
  mkdirSync(join(folder, 'cni-shims'), { recursive: true });
  for (const [name, real] of plugins)
    writeFileSync(join(folder, 'cni-shims', name), recorderScript(real), { mode: 0o755 });
  // the holder's cwd is the node's folder (world.ts startNode): reached from the node's own mounts
  const base = `/proc/${world.node(node).holderPid}/cwd`;
  await world.run({ kind: 'node', node }, [
    'sh',
    '-ec',
    [
      `mkdir -p ${RECORDS_DIR}`,
      `mountpoint -q ${RECORDS_DIR} || mount --bind ${base}/cni-calls ${RECORDS_DIR}`,
      `for p in ${[...plugins.keys()].map(shq).join(' ')}; do`,
      `  mountpoint -q ${NODE_PATHS.binDir}/"$p" || mount --bind ${base}/cni-shims/"$p" ${NODE_PATHS.binDir}/"$p"`,
      'done',
    ].join('\n'),
  ]);
  return join(folder, 'cni-calls');
}
