// Netview reads only what a client watches (issue 18, 19): changes in a namespace nobody watches cause no
// read (counted by the watch), a later watch returns exactly what `ip -json` reads then, a watched namespace
// stays live, and the topology asked for while nobody watched it is what the kernel holds then.
import { EventEmitter } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventName, Payload } from '../src-main/api/contract.js';
import { keyedTables } from '../src-main/netview/diff.js';
import { NetviewPart } from '../src-main/netview/netview-part.js';
import { readNamespace } from '../src-main/netview/snapshot.js';
import { Kubelet } from '../src-main/runtime/kubelet.js';
import type { EngineEvents } from '../src-main/session/session.js';
import { createWorld, type Target, type World } from '../src-main/world/world.js';
import { recordingSession, writeDefaultConf } from './helpers.js';

let world: World;
let kubelet: Kubelet;
let part: NetviewPart;
const seen: { event: EventName; payload: unknown }[] = [];
const events: EngineEvents = new EventEmitter();
const node1: Target = { kind: 'node', node: 'node1' };
const sandbox: Target = { kind: 'sandbox' };

beforeAll(async () => {
  world = await createWorld({ nodes: 1 });
  writeDefaultConf(world, 'node1');
  kubelet = new Kubelet(world, { loopback: 'internal' });
  part = new NetviewPart();
  await part.attach(recordingSession(world, kubelet, seen, events));
  // the node's eth0 settles (IPv6 duplicate address detection) before the counting starts
  await settled(node1);
  await settled(sandbox);
}, 60_000);
afterAll(async () => {
  await part?.detach();
  await world?.destroy();
});

/**
 * What `ip -json` reads in a namespace once no IPv6 address is tentative (its local route comes when duplicate
 * address detection ends) and two reads in a row agree.
 */
async function settled(t: Target) {
  let last = '';
  for (let i = 0; i < 100; i++) {
    const tentative = (await world.run(t, ['ip', '-6', 'addr', 'show', 'tentative'])).trim();
    const now = keyedTables(await readNamespace(world, t));
    if (!tentative && JSON.stringify(now) === last) return now;
    last = tentative ? '' : JSON.stringify(now);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the namespace did not settle within 10 s');
}

/** Waits until a netview.diff sent since `from` passes `which`. */
async function diffSent(from: number, which: (d: Payload<'netview.diff'>) => boolean): Promise<void> {
  await expect
    .poll(
      () => seen.slice(from).some((e) => e.event === 'netview.diff' && which(e.payload as Payload<'netview.diff'>)),
      { timeout: 5000 },
    )
    .toBe(true);
}

/** Waits until the monitors have heard `n` more events than `from` (they mark or read what changed). */
async function heard(from: number, n: number): Promise<void> {
  await expect.poll(() => part.stats.events - from, { timeout: 5000 }).toBeGreaterThanOrEqual(n);
  // the watch's debounce and any read it would start go by (a read, if one were made, is counted)
  await new Promise((r) => setTimeout(r, 300));
}

/** A veth pair with an address, a route through it and a neighbour on it: an event of every table but FDB. */
const script = (dev: string, net: number) =>
  [
    `ip link add ${dev} type veth peer name ${dev}p`,
    `ip link set ${dev} addrgenmode none`,
    `ip link set ${dev}p addrgenmode none`,
    `ip link set ${dev} up`,
    `ip link set ${dev}p up`,
    `ip addr add 10.${net}.0.1/24 dev ${dev}`,
    `ip route add 10.${net}.9.0/24 via 10.${net}.0.2`,
    `ip neigh add 10.${net}.0.3 lladdr 02:00:00:00:00:0${net % 10} dev ${dev}`,
  ].join(' && ');

describe('netview reads only what someone watches', () => {
  it('changes in an unwatched node cause no read; the first watch reads it once and equals ip -json', async () => {
    const before = part.stats;
    await world.run(node1, ['sh', '-ec', script('dm0', 71)]);
    await heard(before.events, 6);
    expect(part.stats.reads).toBe(before.reads);
    expect(part.stats.marked).toBeGreaterThan(before.marked);
    expect(part.stats.stale).toBeGreaterThan(0);
    expect(seen.filter((e) => e.event.startsWith('netview.'))).toEqual([]);

    const snap = await part['netview.watch']({ ns: 'node:node1' });
    expect(part.stats.reads).toBe(before.reads + 1);
    expect(snap.tables).toEqual(await settled(node1));
    expect(snap.tables.links.map((l) => l.row.name)).toContain('dm0');
    expect(snap.tables.routes.some((r) => r.row.dst === '10.71.9.0/24')).toBe(true);
    expect(snap.tables.neighs.some((n) => n.row.dst === '10.71.0.3')).toBe(true);
  });

  it('a watched node stays live: its changes are read and sent as diffs in seq order', async () => {
    const w = await part['netview.snapshot']({ ns: 'node:node1' });
    const from = seen.length;
    const reads = part.stats.reads;
    await world.run(node1, ['sh', '-ec', script('dm1', 72)]);
    await diffSent(from, (d) => d.diff.neighs.added.some((n) => n.row.dst === '10.72.0.3'));
    expect(part.stats.reads).toBeGreaterThan(reads);
    const seqs = seen
      .slice(from)
      .filter((e) => e.event === 'netview.diff')
      .map((e) => (e.payload as Payload<'netview.diff'>).seq);
    expect(seqs).toEqual(seqs.map((_, i) => w.seq + 1 + i));
    // what it serves, live, comes to what ip -json reads (a late IPv6 route of eth0's DAD comes as one more diff)
    await expect
      .poll(
        async () => {
          const want = await settled(node1);
          return JSON.stringify((await part['netview.snapshot']({ ns: 'node:node1' })).tables) === JSON.stringify(want);
        },
        { timeout: 10_000 },
      )
      .toBe(true);
  });

  it('unwatched again, its changes only mark it stale', async () => {
    await part['netview.unwatch']({ ns: 'node:node1' });
    const before = part.stats;
    await world.run(node1, ['ip', 'link', 'add', 'dm2', 'type', 'veth']);
    await heard(before.events, 1);
    expect(part.stats.reads).toBe(before.reads);
    // a snapshot of an unwatched namespace is read when asked for: one read, what the kernel holds
    const snap = await part['netview.snapshot']({ ns: 'node:node1' });
    expect(part.stats.reads).toBe(before.reads + 1);
    expect(snap.tables).toEqual(await settled(node1));
  });

  it('the topology nobody watches is read when asked for; once watched, its tables are live and sent', async () => {
    const before = part.stats;
    await world.run(sandbox, ['ip', 'link', 'add', 'dm3', 'type', 'veth']);
    await heard(before.events, 1);
    expect(part.stats.reads).toBe(before.reads);
    expect(seen.some((e) => e.event === 'netview.topology' || e.event === 'netview.topologyDiff')).toBe(false);
    const names = (t: Payload<'netview.topology'>, id: string) =>
      t.namespaces
        .find((n) => n.id === id)!
        .links.map((l) => l.name)
        .sort();
    const ipNames = async (t: Target) =>
      (JSON.parse(await world.run(t, ['ip', '-json', 'link', 'show'])) as { ifname: string }[])
        .map((l) => l.ifname)
        .sort();
    const t = await part['netview.topology']();
    expect(names(t, 'sandbox')).toEqual(await ipNames(sandbox));
    expect(names(t, 'sandbox')).toContain('dm3');
    expect(names(t, 'node:node1')).toEqual(await ipNames(node1));

    const from = seen.length;
    const whole = await part['netview.watchTopology']();
    const reads = part.stats.reads;
    await world.run(sandbox, ['ip', 'link', 'add', 'dm4', 'type', 'veth']);
    await expect
      .poll(
        () =>
          seen.slice(from).some(
            (e) =>
              // a diff, or the whole one if a change during the watch's own reads was sent first
              (e.event === 'netview.topologyDiff' &&
                (e.payload as Payload<'netview.topologyDiff'>).seq > whole.seq &&
                (e.payload as Payload<'netview.topologyDiff'>).upsert.some(
                  (n) => n.id === 'sandbox' && n.links.some((l) => l.name === 'dm4'),
                )) ||
              (e.event === 'netview.topology' &&
                (e.payload as Payload<'netview.topology'>).namespaces.some(
                  (n) => n.id === 'sandbox' && n.links.some((l) => l.name === 'dm4'),
                )),
          ),
        { timeout: 5000 },
      )
      .toBe(true);
    // its link came from the event's own line; the read that confirms it follows
    await expect.poll(() => part.stats.reads, { timeout: 5000 }).toBeGreaterThan(reads);
    // the topology unwatched again: a new link in the sandbox is only marked stale
    await part['netview.unwatchTopology']();
    // the confirming read of dm4's row may still be due: asking for the topology waits for reads due
    await part['netview.topology']();
    const b2 = part.stats;
    await world.run(sandbox, ['ip', 'link', 'add', 'dm5', 'type', 'veth']);
    await heard(b2.events, 1);
    expect(part.stats.reads).toBe(b2.reads);
  });

  it("a pod's changes unwatched are not read; watched, it equals ip -json and stays live through its node", async () => {
    const pod = await kubelet.syncPod({ name: 'quiet', node: 'node1' });
    events.emit('event', 'pods.changed', []);
    const podT: Target = { kind: 'pod', node: 'node1', netns: pod.netns };
    // its namespace is found (one read, when its pin appears) and named by the kubelet's pod
    await expect
      .poll(async () => (await part['netview.namespaces']()).map((n) => n.id), { timeout: 10_000 })
      .toContain('pod:quiet');
    await settled(podT);
    await new Promise((r) => setTimeout(r, 300));
    const before = part.stats;
    await world.run(podT, ['sh', '-ec', script('pq0', 73)]);
    await heard(before.events, 6);
    expect(part.stats.reads).toBe(before.reads);

    const w = await part['netview.watch']({ ns: 'pod:quiet' });
    expect(w.tables).toEqual(await settled(podT));
    expect(w.tables.links.map((l) => l.row.name)).toContain('pq0');
    const from = seen.length;
    await world.run(podT, ['ip', 'addr', 'add', '10.73.5.1/24', 'dev', 'pq0']);
    await diffSent(from, (d) => d.ns === 'pod:quiet' && d.diff.addrs.added.some((a) => a.row.local === '10.73.5.1'));
    await part['netview.unwatch']({ ns: 'pod:quiet' });
  });
});
