// Proof that nothing is left: of pods on a node (veths, netns, IP reservations, cache entries,
// processes), and of a world on the host (interfaces, named netns, mounts, processes, state).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { nodeFolder } from '../fs/world-files.js';
import { NODE_PATHS, type World } from '../world/world.js';

export interface Leftovers {
  node: string;
  items: string[];
}

/** What pods left on a node. The bridge (cni0) stays by design: the bridge plugin never deletes it. */
export async function podLeftovers(world: World, node: string): Promise<Leftovers> {
  const items: string[] = [];
  const links = JSON.parse(await world.run({ kind: 'node', node }, ['ip', '-json', '-details', 'link', 'show'])) as {
    ifname: string;
    linkinfo?: { info_kind?: string };
  }[];
  for (const l of links) {
    if (l.ifname === 'lo' || l.ifname === 'eth0') continue;
    const kind = l.linkinfo?.info_kind;
    if (kind !== 'bridge') items.push(`interface ${l.ifname}${kind ? ` (${kind})` : ''}`);
  }
  const netns = (await world.run({ kind: 'node', node }, ['ls', '-1', '/run/netns'])).split('\n').filter(Boolean);
  items.push(...netns.map((x) => `network namespace /run/netns/${x}`));
  // the node's folders are the lab's to change: walked without following a link (fs/beneath.ts)
  const data = nodeFolder(world, node, 'dataDir');
  for (const net of data.readdirIfExists('networks')) {
    for (const f of data.readdirIfExists(`networks/${net}`)) {
      if (f === 'lock' || f.startsWith('last_reserved_ip')) continue;
      items.push(
        `IP reservation ${net}/${f} (held by ${data
          .readFile(`networks/${net}/${f}`, { maxBytes: 4096 })
          .split('\n')[0]
          ?.slice(0, 16)}…)`,
      );
    }
  }
  items.push(...data.readdirIfExists('results').map((f) => `cached result ${f}`));
  items.push(
    ...nodeFolder(world, node, 'sandboxesDir')
      .readdirIfExists()
      .map((f) => `sandbox files ${NODE_PATHS.sandboxesDir}/${f}`),
  );
  items.push(
    ...nodeFolder(world, node, 'podLogsDir')
      .readdirIfExists()
      .map((f) => `pod logs ${NODE_PATHS.podLogsDir}/${f}`),
  );
  return { node, items };
}

/**
 * podLeftovers once the kernel has caught up: a network namespace (and the veths in it) is destroyed
 * asynchronously after its last reference goes, so a veth may be listed for a moment after a correct
 * teardown. Waits while `pending(items)` holds, at most `timeoutMs`.
 */
export async function settledPodLeftovers(
  world: World,
  node: string,
  timeoutMs = 3000,
  pending = (items: string[]) => items.some((i) => i.startsWith('interface')),
): Promise<Leftovers> {
  const until = Date.now() + timeoutMs;
  let left = await podLeftovers(world, node);
  while (pending(left.items) && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    left = await podLeftovers(world, node);
  }
  return left;
}

/** Processes of the world besides world-init and the node holders. */
export async function strayProcesses(world: World): Promise<string[]> {
  const out = await world.run({ kind: 'sandbox' }, [
    'sh',
    '-c',
    'for p in /proc/[0-9]*; do printf "%s %s\\n" "${p#/proc/}" "$(tr "\\0" " " < $p/cmdline 2>/dev/null)"; done',
  ]);
  const holders = new Set(world.holderPids.map(String));
  return out
    .split('\n')
    .filter(Boolean)
    .filter((l) => {
      const [pid, ...cmd] = l.split(' ');
      const c = cmd.join(' ');
      return (
        pid !== '1' && !holders.has(pid!) && c.trim() !== '' && !c.startsWith('sh -c for p in') && !c.startsWith('tr ')
      );
    });
}

export interface HostSnapshot {
  links: string[];
  netns: string[];
  mounts: string[];
  processes: string[];
}

/**
 * What the host shows: its interfaces and named netns, podnet mounts, and the processes of the worlds
 * whose id starts with `worldMarker` (a world id, or "world-<engine pid>-" for every world of one engine).
 */
export function hostSnapshot(worldMarker: string): HostSnapshot {
  const marker = 'podnet';
  const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(': ')[1]!.split('@')[0]!)
    .sort();
  let netns: string[] = [];
  try {
    netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort();
  } catch {
    /* no /run/netns */
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(marker));
  const processes: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (cmd.includes(`/${worldMarker}`)) processes.push(`${pid} ${cmd}`);
    } catch {
      /* gone */
    }
  }
  return { links, netns, mounts, processes };
}

/** Differences between two host snapshots, as readable lines (empty: the host is unchanged). */
export function hostDiff(before: HostSnapshot, after: HostSnapshot): string[] {
  const diff: string[] = [];
  for (const k of ['links', 'netns', 'mounts'] as const) {
    for (const x of after[k]) if (!before[k].includes(x)) diff.push(`new ${k.replace(/s$/, '')}: ${x}`);
  }
  diff.push(...after.processes.map((p) => `process: ${p}`));
  return diff;
}
