// The live views are event-driven: each kind of kernel change (links added, up, down, on a bridge and off,
// deleted; IPv4 and IPv6 addresses; routes in the main table and another; neighbours added, changed,
// deleted; bridge FDB entries) in each kind of namespace (a node, a pod, the sandbox, and one made by hand
// with `ip netns add` in a node) leaves the watch's tables equal to what `ip -json` reads afterwards.
// The watch reads nothing but what its monitors' events name, so a missed or misread event shows here.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyedTables } from '../src-main/netview/diff.js';
import { readNamespace, targetKey } from '../src-main/netview/snapshot.js';
import { podTarget, WorldWatch } from '../src-main/netview/world-watch.js';
import { Kubelet } from '../src-main/runtime/kubelet.js';
import { createWorld, type Target, type World } from '../src-main/world/world.js';
import { writeDefaultConf } from './helpers.js';

let world: World;
let watch: WorldWatch;
const node1: Target = { kind: 'node', node: 'node1' };

beforeAll(async () => {
  world = await createWorld({ nodes: 1 });
  writeDefaultConf(world, 'node1');
  watch = await WorldWatch.start(world);
}, 60_000);
afterAll(async () => {
  await watch?.close();
  await world?.destroy();
});

const tablesOf = (t: Target) => JSON.stringify(keyedTables(watch.snapshots.get(targetKey(t))!));

/**
 * Waits until the watch equals what ip -json reads. A namespace can still be settling (an IPv6 link-local
 * address after duplicate address detection): compare once two direct reads agree, so both see one state.
 */
async function converged(t: Target, what: string): Promise<void> {
  let direct = '';
  for (let i = 0; i < 60; i++) {
    const a = JSON.stringify(keyedTables(await readNamespace(world, t)));
    const b = JSON.stringify(keyedTables(await readNamespace(world, t)));
    direct = b;
    if (a === b && tablesOf(t) === b) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(JSON.parse(tablesOf(t)), `after ${what}`).toEqual(JSON.parse(direct));
}

/** Each step is one kind of event; the commands run inside the namespace (`ip`/`bridge` with `pre` in front). */
const STEPS: [string, string][] = [
  ['link add (veth pair)', 'ip link add ev0 type veth peer name ev1'],
  ['link up', 'ip link set ev0 up && ip link set ev1 up'],
  ['link add (bridge) and up', 'ip link add evbr type bridge && ip link set evbr up'],
  ['link master', 'ip link set ev0 master evbr'],
  ['addr add v4', 'ip addr add 10.99.0.1/24 dev evbr'],
  ['addr add v6', 'ip -6 addr add fd99::1/64 dev evbr nodad'],
  ['route add main v4', 'ip route add 10.98.0.0/24 via 10.99.0.2'],
  ['route add table 100', 'ip route add 10.97.0.0/24 dev evbr table 100'],
  ['route add main v6', 'ip -6 route add fd98::/64 via fd99::2'],
  ['neigh add', 'ip neigh add 10.99.0.5 lladdr 02:00:00:00:00:05 dev evbr'],
  ['neigh change', 'ip neigh change 10.99.0.5 lladdr 02:00:00:00:00:06 dev evbr'],
  ['neigh del', 'ip neigh del 10.99.0.5 dev evbr'],
  ['fdb add', 'bridge fdb add 02:00:00:00:00:07 dev ev0 master static'],
  ['fdb del', 'bridge fdb del 02:00:00:00:00:07 dev ev0 master static'],
  ['route del main v4', 'ip route del 10.98.0.0/24'],
  ['route del table 100', 'ip route del 10.97.0.0/24 table 100'],
  ['route del main v6', 'ip -6 route del fd98::/64'],
  ['addr del v4', 'ip addr del 10.99.0.1/24 dev evbr'],
  ['addr del v6', 'ip -6 addr del fd99::1/64 dev evbr'],
  ['link nomaster', 'ip link set ev0 nomaster'],
  ['link down', 'ip link set ev0 down'],
  ['link del', 'ip link del ev0 && ip link del evbr'],
];

async function walk(t: Target, inNode: string | undefined): Promise<void> {
  await converged(t, 'the start');
  const applied = watch.applied;
  for (const [what, cmd] of STEPS) {
    // a hand-made namespace is changed from its node, as a learner does: ip -n demo …
    const run = inNode ? cmd.replace(/(^|&& )(ip|bridge) /g, `$1$2 -n ${inNode} `) : cmd;
    await world.run(inNode ? node1 : t, ['sh', '-ec', run]);
    await converged(t, what);
  }
  return void applied;
}

describe('live views: every event kind in every namespace kind equals ip -json afterwards', () => {
  it('in a node (its link events applied from their own text)', async () => {
    const before = watch.applied;
    await walk(node1, undefined);
    expect(watch.applied).toBeGreaterThan(before);
  }, 60_000);

  it('in the sandbox', async () => {
    const before = watch.applied;
    await walk({ kind: 'sandbox' }, undefined);
    expect(watch.applied).toBeGreaterThan(before);
  }, 60_000);

  it("in a pod (heard through its node's all-nsid monitor)", async () => {
    const kubelet = new Kubelet(world, { loopback: 'internal' });
    const pod = await kubelet.syncPod({ name: 'ev', node: 'node1' });
    await watch.rescan();
    const t: Target = { kind: 'pod', node: 'node1', netns: pod.netns };
    await expect.poll(() => watch.snapshots.has(targetKey(t)), { timeout: 5000 }).toBe(true);
    await walk(t, undefined);
    // heard through the node: no monitor of its own
    expect(watch.monitors()).not.toContain(targetKey(t));
  }, 60_000);

  it('in a namespace made by hand in a node (ip netns add demo): it gets a monitor of its own', async () => {
    await world.run(node1, ['ip', 'netns', 'add', 'demo']);
    const t = podTarget('node1', 'demo');
    await expect.poll(() => watch.monitors().includes(targetKey(t)), { timeout: 5000 }).toBe(true);
    const before = watch.applied;
    // lab 01: lo up, a bridge with an address, and its route, all as the kernel has them
    await world.run(node1, ['ip', '-n', 'demo', 'link', 'set', 'lo', 'up']);
    await converged(t, 'lo up');
    expect(watch.snapshots.get(targetKey(t))!.links.find((l) => l.name === 'lo')?.flags).toContain('UP');
    await walk(t, 'demo');
    expect(watch.applied).toBeGreaterThan(before);
    await world.run(node1, ['ip', 'netns', 'delete', 'demo']);
    await expect.poll(() => watch.monitors().includes(targetKey(t)), { timeout: 5000 }).toBe(false);
  }, 60_000);
});
