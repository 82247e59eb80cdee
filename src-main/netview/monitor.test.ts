// A live monitor on a node: events in, one diff per burst out, and nothing left running after close.
import { describe, expect, it } from 'vitest';
import { withWorld, writeDefaultConf } from '../../test/helpers.js';
import { Kubelet } from '../runtime/kubelet.js';
import type { Target, World } from '../world/world.js';
import type { NetChange } from './monitor.js';
import { hasSubscribed, monitorReady, NetMonitor, spawnMonitor } from './monitor.js';

/** The first change that satisfies pred, within ms. */
function nextChange(m: NetMonitor, pred: (c: NetChange) => boolean, ms = 1000): Promise<NetChange> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      m.off('change', on);
      reject(new Error(`no matching change within ${ms} ms`));
    }, ms);
    const on = (c: NetChange) => {
      if (!pred(c)) return;
      clearTimeout(t);
      m.off('change', on);
      resolve(c);
    };
    m.on('change', on);
  });
}

/** Adds a standalone link named dummy0: type dummy, or ifb where the kernel was built without the dummy driver. */
async function addDummy(w: World, t: Target): Promise<string> {
  const r = await w.exec(t, ['ip', 'link', 'add', 'dummy0', 'type', 'dummy']);
  if (r.code === 0) return 'dummy';
  if (!/Unknown device type/i.test(r.stderr)) throw new Error(r.stderr);
  await w.run(t, ['ip', 'link', 'add', 'dummy0', 'type', 'ifb']);
  return 'ifb';
}

describe('NetMonitor', () => {
  it('reports dummy0 added, changed when set up, removed when deleted; close ends ip monitor', () =>
    withWorld(1, async (w) => {
      const node: Target = { kind: 'node', node: 'node1' };
      const m = await NetMonitor.start(w, node);
      expect(m.snapshot.links.map((l) => l.name)).toContain('eth0');
      const named = (c: NetChange['diff']['links']['added']) => c.some((l) => l.name === 'dummy0');
      const latencies: number[] = [];
      const timed = async (what: string, pred: (c: NetChange) => boolean, act: () => Promise<unknown>) => {
        const change = nextChange(m, pred);
        const t0 = performance.now();
        await act();
        const c = await change;
        latencies.push(performance.now() - t0);
        console.log(
          `netview: ${what}: change ${(performance.now() - t0).toFixed(1)} ms after the command started, ${(performance.now() - c.firstEventAt).toFixed(1)} ms after the first event`,
        );
        return c;
      };

      let kind = '';
      const added = await timed(
        'add',
        (c) => named(c.diff.links.added),
        async () => (kind = await addDummy(w, node)),
      );
      expect(added.target).toEqual(node);
      expect(added.snapshot.links.find((l) => l.name === 'dummy0')?.kind).toBe(kind);

      const up = await timed(
        'set up',
        (c) => c.diff.links.changed.some((x) => x.after.name === 'dummy0' && x.after.flags.includes('UP')),
        () => w.run(node, ['ip', 'link', 'set', 'dummy0', 'up']),
      );
      const ch = up.diff.links.changed.find((x) => x.after.name === 'dummy0')!;
      expect(ch.before.flags).not.toContain('UP');

      const removed = await timed(
        'delete',
        (c) => named(c.diff.links.removed),
        () => w.run(node, ['ip', 'link', 'del', 'dummy0']),
      );
      expect(removed.snapshot.links.map((l) => l.name)).not.toContain('dummy0');
      expect(Math.max(...latencies)).toBeLessThan(1000);

      const proc = m.process;
      const cmdlines = () =>
        w.run({ kind: 'sandbox' }, [
          'sh',
          '-c',
          'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline 2>/dev/null; echo; done',
        ]);
      expect(proc.hasExited).toBe(false);
      expect(await cmdlines()).toMatch(/^ip monitor /m);
      const s = await m.close();
      expect(proc.hasExited).toBe(true);
      expect(s.signal).toBe(15);
      // and it is gone from the world
      expect(await cmdlines()).not.toMatch(/^ip monitor /m);
    }));

  it('coalesces a burst into few reads, with addresses and routes in the diff', () =>
    withWorld(1, async (w) => {
      const node: Target = { kind: 'node', node: 'node1' };
      const m = await NetMonitor.start(w, node);
      const changes: NetChange[] = [];
      m.on('change', (c) => changes.push(c));
      await w.run(node, [
        'sh',
        '-ec',
        'ip link add br9 type bridge; ip addr add 10.9.9.1/24 dev br9; ip link set br9 up; ip route add 10.8.0.0/16 via 10.9.9.2 dev br9 onlink; ip neigh add 10.9.9.5 lladdr 02:00:00:00:00:05 dev br9',
      ]);
      await new Promise((r) => setTimeout(r, 300));
      await m.close();
      // a dozen netlink events from five commands arrive as a few diffs, not one per event
      console.log(`netview: burst of ${m.events} events → ${changes.length} change(s)`);
      expect(changes.length).toBeGreaterThan(0);
      expect(m.events).toBeGreaterThanOrEqual(8);
      expect(changes.length).toBeLessThan(m.events / 2);
      const all = (f: (c: NetChange) => unknown[]) => changes.flatMap(f);
      expect(all((c) => c.diff.links.added)).toContainEqual(expect.objectContaining({ name: 'br9', kind: 'bridge' }));
      expect(all((c) => c.diff.addrs.added)).toContainEqual({
        ifname: 'br9',
        family: 'inet',
        local: '10.9.9.1',
        prefixlen: 24,
        scope: 'global',
      });
      expect(all((c) => c.diff.routes.added)).toContainEqual(
        expect.objectContaining({ dst: '10.8.0.0/16', gateway: '10.9.9.2', dev: 'br9', table: 'main' }),
      );
      expect(all((c) => c.diff.neighs.added)).toContainEqual(
        expect.objectContaining({ dst: '10.9.9.5', dev: 'br9', lladdr: '02:00:00:00:00:05', state: ['PERMANENT'] }),
      );
    }));

  it('watches a pod netns too, and a burst that leaves the tables as they were nets out to nothing', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const pod = await new Kubelet(w, { loopback: 'internal' }).syncPod({ name: 'p', node: 'node1' });
      const t: Target = { kind: 'pod', node: 'node1', netns: pod.netns };
      const m = await NetMonitor.start(w, t);
      const changes: NetChange[] = [];
      m.on('change', (c) => changes.push(c));
      const added = nextChange(m, (c) => c.diff.addrs.added.some((a) => a.local === '10.99.0.1'));
      await w.run(t, ['ip', 'addr', 'add', '10.99.0.1/32', 'dev', 'lo']);
      expect((await added).target).toEqual(t);
      const before = changes.length;
      // add then delete in one burst: the re-read usually finds the tables unchanged and reports
      // nothing; if a loaded machine splits the burst, the route must be reported gone as well
      await w.run(t, ['sh', '-c', 'ip route add 10.98.0.0/16 dev eth0 && ip route del 10.98.0.0/16 dev eth0']);
      await new Promise((r) => setTimeout(r, 200));
      const later = changes.slice(before);
      const addedRoute = later.flatMap((c) => c.diff.routes.added.filter((r) => r.dst === '10.98.0.0/16')).length;
      const removedRoute = later.flatMap((c) => c.diff.routes.removed.filter((r) => r.dst === '10.98.0.0/16')).length;
      expect(addedRoute).toBe(removedRoute);
      await m.close();
    }));

  it("knows from the engine's side when ip monitor has subscribed, and that an unsubscribed netlink socket is not", () =>
    withWorld(1, async (w) => {
      const node: Target = { kind: 'node', node: 'node1' };
      const start = (argv?: string[]) => {
        // stdin a pipe: ip -batch then waits on it, its socket open
        const p = argv ? w.spawn(node, argv, { stdin: true }) : spawnMonitor(w, node);
        let err = '';
        p.on('stderr', (d) => (err += d.toString()));
        return { p, ready: (ms: number) => monitorReady(w, p, () => err, ms) };
      };
      const subscribed = start();
      await subscribed.ready(30_000);
      expect(hasSubscribed(w, subscribed.p.pid)).toBe(true);
      // a NETLINK_ROUTE socket that joined no group is not a subscription: ip -batch waits on its stdin
      const unsubscribed = start(['ip', '-batch', '-']);
      await expect(unsubscribed.ready(3000)).rejects.toThrow(/did not subscribe within/);
      expect(hasSubscribed(w, unsubscribed.p.pid)).toBe(false);
      // a command that fails says why
      const failing = start(['ip', 'monitor', 'no-such-object']);
      await expect(failing.ready(30_000)).rejects.toThrow(/ip monitor exited \(\d+\): .*no-such-object/);
      for (const { p } of [subscribed, unsubscribed]) {
        p.kill(15);
        await p.exited;
      }
    }));
});
