// What a learner observes of traffic: the IPv4 neighbour entries and the bridges' learned FDB entries of
// every namespace of the world. `lab test` reads it around each traffic check, to flag a check whose own
// packets fill in what the step asks the learner to watch appear.
import { readTables, type PartialTables } from '../netview/snapshot.js';
import { nodeFolder } from '../fs/world-files.js';
import type { Target } from '../world/world.js';
import type { CheckContext } from './checks.js';
import type { Check } from './format.js';

/** The checks that send packets: the others only read. */
export const sendsTraffic = (c: Check) => c.kind === 'ping' || c.kind === 'script';

/** Every namespace of the world, by the name a lab uses for it (node1, pod/web, node1/demo). */
function namespaces(ctx: CheckContext): [string, Target][] {
  const podOf = new Map<string, string>();
  for (const p of ctx.kubelet.pods.values()) if (p.netns) podOf.set(p.netns, `pod/${p.spec.name}`);
  const out: [string, Target][] = [];
  for (const node of ctx.world.nodes.keys()) {
    out.push([node, { kind: 'node', node }]);
    for (const pin of nodeFolder(ctx.world, node, 'netnsDir').readdirIfExists()) {
      const netns = `/run/netns/${pin}`;
      out.push([podOf.get(netns) ?? `${node}/${pin}`, { kind: 'pod', node, netns }]);
    }
  }
  return out;
}

/** One line per entry, "pod/client: neighbour 10.244.1.2 (02:…) on eth0", as a set to diff. */
export async function observedState(ctx: CheckContext): Promise<Set<string>> {
  const lines = new Set<string>();
  await Promise.all(
    namespaces(ctx).map(async ([name, target]) => {
      // a namespace deleted meanwhile has nothing left to observe
      const t = await readTables(ctx.world, target, new Set(['neighs', 'fdb'])).catch((): PartialTables => ({}));
      for (const n of t.neighs ?? [])
        if (n.lladdr && !n.dst.includes(':')) lines.add(`${name}: neighbour ${n.dst} (${n.lladdr}) on ${n.dev}`);
      for (const f of t.fdb ?? [])
        if (f.master && !f.state && !f.flags.includes('self'))
          lines.add(`${name}: ${f.master} learned ${f.mac} on ${f.dev}`);
    }),
  );
  return lines;
}

/** The entries in `after` that `before` lacks. */
export const added = (before: Set<string>, after: Set<string>) => [...after].filter((l) => !before.has(l));

/**
 * Forgets observed entries (as ageing would): a learned FDB entry or a neighbour entry, by its line. The
 * guard forgets what appeared around a check and runs it again: only what the check puts back is its own
 * doing, not a fresh link's stray frames (IPv6 router solicitations, MLD) that happened to cross then.
 */
export async function forget(ctx: CheckContext, lines: string[]): Promise<void> {
  const where = new Map(namespaces(ctx));
  await Promise.all(
    lines.map(async (l) => {
      const neigh = /^(.+): neighbour (\S+) \(\S+\) on (\S+)$/.exec(l);
      const fdb = /^(.+): \S+ learned (\S+) on (\S+)$/.exec(l);
      const target = where.get((neigh ?? fdb)?.[1] ?? '');
      if (!target) return;
      const argv = neigh
        ? ['ip', 'neigh', 'del', neigh[2]!, 'dev', neigh[3]!]
        : ['bridge', 'fdb', 'del', fdb![2]!, 'dev', fdb![3]!, 'master'];
      await ctx.world.exec(target, argv).catch(() => {}); // gone already: aged, or its link deleted
    }),
  );
}
