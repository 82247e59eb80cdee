// The timeline part against a real world (through the engine, as the UI drives it): step-through holds
// the runtime between steps, faults act inside the world, and what leaks is read from the node's disk.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EventName, TimelineOperation, TimelinePause } from '../src-main/api/contract.js';
import { createEngine, type Engine } from '../src-main/engine/engine.js';
import { TerminalService } from '../src-main/terminal/terminal-service.js';
import type { World } from '../src-main/world/world.js';
import { SYNCPOD_STEPS } from './helpers.js';

let engine: Engine;
let world: World;
const seen: { event: EventName; payload: unknown }[] = [];

/** Resolves with the first event (from now on, or already seen since `from`) that matches. */
function waitFor<T>(event: EventName, match: (p: T) => boolean, from = 0, timeout = 30_000): Promise<T> {
  const old = seen.slice(from).find((e) => e.event === event && match(e.payload as T));
  if (old) return Promise.resolve(old.payload as T);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => (engine.events.off('event', on), reject(new Error(`no ${event} event matched in ${timeout} ms`))),
      timeout,
    );
    const on = (e: EventName, p: unknown) => {
      if (e === event && match(p as T)) {
        clearTimeout(timer);
        engine.events.off('event', on);
        resolve(p as T);
      }
    };
    engine.events.on('event', on);
  });
}

const finished = (id: number, from = 0) =>
  waitFor<TimelineOperation>(
    'timeline.operation',
    (o) => o.id === id && (o.state === 'done' || o.state === 'failed'),
    from,
  );
const pausedBefore = (id: number, name: string, from = 0) =>
  waitFor<{ op: number; pause: TimelinePause | null }>(
    'timeline.pause',
    (p) => p.op === id && p.pause?.next.name === name,
    from,
  );

async function linksIn(node: string, netns: string) {
  return JSON.parse(await world.run({ kind: 'pod', node, netns }, ['ip', '-json', 'link', 'show'])) as {
    ifname: string;
    flags: string[];
    operstate: string;
  }[];
}

beforeAll(async () => {
  engine = createEngine({ terminals: (w, r) => new TerminalService(w, r) });
  engine.events.on('event', (event, payload) => seen.push({ event, payload }));
  await engine.api['world.start']({ nodes: 2 });
  world = engine.session.runningWorld!;
}, 60_000);
afterAll(async () => {
  await engine?.dispose();
});

describe('the timeline against a real world', () => {
  it('step-through holds SyncPod after NewNetNS with only lo, DOWN, in the new netns; Continue completes it', async () => {
    const mark = seen.length;
    const op = await engine.api['timeline.createPod']({ name: 'web', node: 'node1', stepThrough: true });
    expect(op).toMatchObject({ kind: 'syncPod', pod: 'web', node: 'node1', stepThrough: true });
    await pausedBefore(op.id, 'SyncPod', mark);
    for (const next of [
      'NetworkReady gate',
      'PrepareResources',
      'GetPodDNS',
      'RunPodSandbox',
      'NewNetNS',
      'setupPodNetwork',
    ]) {
      const m = seen.length;
      await engine.api['timeline.next']({ op: op.id });
      await pausedBefore(op.id, next, m);
    }
    // paused before setupPodNetwork: NewNetNS is done, nothing else has run
    const [listed] = (await engine.api['timeline.list']({})).filter((o) => o.id === op.id);
    expect(listed!.state).toBe('paused');
    expect(listed!.pause).toMatchObject({
      next: { component: 'containerd', name: 'setupPodNetwork' },
      after: { component: 'kernel', name: 'NewNetNS' },
    });
    const netns = listed!.pause!.netns!;
    expect(netns).toMatch(/^\/run\/netns\/cni-/);
    const links = await linksIn('node1', netns);
    expect(links.map((l) => l.ifname)).toEqual(['lo']);
    expect(links[0]!.flags).not.toContain('UP');
    // the pause event carries the same view of the netns
    const withLinks = await waitFor<{ op: number; pause: TimelinePause | null }>(
      'timeline.pause',
      (p) => p.op === op.id && !!p.pause?.podLinks,
      0,
    );
    expect(withLinks.pause!.podLinks).toEqual([{ ifname: 'lo', state: 'DOWN', up: false }]);
    expect(engine.session.runningWorld!.nodes.size).toBe(2);
    expect(await engine.api['pod.list']({})).toEqual([]); // the kubelet has no pod yet

    const m = seen.length;
    await engine.api['timeline.continue']({ op: op.id });
    const done = await finished(op.id, m);
    expect(done.state).toBe('done');
    expect(done.pauses.length).toBeGreaterThan(0);
    const pods = await engine.api['pod.list']({});
    expect(pods).toEqual([
      expect.objectContaining({
        name: 'web',
        node: 'node1',
        ready: true,
        ip: expect.stringMatching(/^10\.244\.1\.\d+$/),
      }),
    ]);
    // the steps in DESIGN.md's order
    const steps = (await engine.api['timeline.steps']({ op: op.id })).filter(
      (s) => s.component !== 'cni' || s.name === 'CNI ADD',
    );
    expect(steps.map((s) => `${s.component}:${s.name}`)).toEqual(SYNCPOD_STEPS);
    // a plugin exec's details: env, stdin, stdout, and the seeds' source on the steps
    const all = await engine.api['timeline.steps']({ op: op.id });
    const bridge = all.find((s) => s.name === 'bridge ADD')!;
    const d = await engine.api['timeline.detail']({ op: op.id, step: bridge.id });
    expect(d.env).toMatchObject({ CNI_COMMAND: 'ADD', CNI_IFNAME: 'eth0', CNI_NETNS: netns });
    expect(JSON.parse(d.stdin!)).toMatchObject({ type: 'bridge', name: 'podnet' });
    expect(JSON.parse(d.stdout!).ips[0].address).toBe(`${pods[0]!.ip}/24`);
    const newNetns = await engine.api['timeline.detail']({
      op: op.id,
      step: all.find((s) => s.name === 'NewNetNS')!.id,
    });
    expect(newNetns.source!.url).toMatch(/containerd\/blob\/v2\.1\.9\/internal\/cri\/server\/sandbox_run\.go#L204$/);
  });

  it('pods made by pod.create are in the timeline too', async () => {
    const m = seen.length;
    await engine.api['pod.create']({ name: 'db', node: 'node2' });
    const op = await waitFor<TimelineOperation>('timeline.operation', (o) => o.pod === 'db' && o.state === 'done', m);
    expect(op).toMatchObject({ kind: 'syncPod', node: 'node2', stepThrough: false });
    expect(op.leaks).toBeUndefined();
  });

  it('a plugin failing on ADD: the runtime undoes the sandbox, says so, nothing leaks, and the plugin is itself again', async () => {
    const m = seen.length;
    const op = await engine.api['timeline.createPod']({
      name: 'broken',
      node: 'node1',
      stepThrough: false,
      fault: { kind: 'plugin-fails', plugin: 'portmap', on: 'ADD' },
    });
    const done = await finished(op.id, m);
    expect(done.state).toBe('failed');
    expect(done.error).toMatch(
      /^Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "[0-9a-f]{64}": plugin type="portmap" failed \(add\): injected fault: portmap fails on ADD; podnet timeline fault injection$/,
    );
    expect(done.faultNote).toMatch(/wrapper is bound over \/opt\/cni\/bin\/portmap/);
    const steps = await engine.api['timeline.steps']({ op: op.id });
    expect(steps.filter((s) => s.undo).map((s) => s.name)).toEqual([
      'undo: teardown pod network (CNI DEL)',
      'undo: remove network namespace',
      'undo: release sandbox name',
    ]);
    expect(
      steps.filter((s) => / (ADD|DEL)$/.test(s.name) && !/^(CNI|loopback) /.test(s.name)).map((s) => s.name),
    ).toEqual(['bridge ADD', 'portmap ADD', 'portmap DEL', 'bridge DEL']);
    expect(done.leaks).toEqual([]);
    // the wrapper is gone: node1's mounts are as before and portmap works (a pod gets made)
    expect(
      await world.run({ kind: 'node', node: 'node1' }, [
        'sh',
        '-c',
        'grep -c /opt/cni/bin/portmap /proc/self/mountinfo || true',
      ]),
    ).toBe('0\n');
    expect(existsSync(join(world.node('node1').host.dataDir, 'podnet-faults'))).toBe(false);
    // only node1 had it: node2's portmap was never touched
    expect(
      await world.run({ kind: 'node', node: 'node2' }, [
        'sh',
        '-c',
        'grep -c /opt/cni/bin/portmap /proc/self/mountinfo || true',
      ]),
    ).toBe('0\n');
  });

  it("a plugin failing on ADD and DEL: the undo's DEL error is ignored (setup never finished), and the host-local reservation leaks (and is reported)", async () => {
    const m = seen.length;
    const op = await engine.api['timeline.createPod']({
      name: 'leaky',
      node: 'node1',
      stepThrough: false,
      fault: { kind: 'plugin-fails', plugin: 'portmap', on: 'ADD+DEL' },
    });
    const done = await finished(op.id, m);
    expect(done.state).toBe('failed');
    // bridge ADD reserved an IP; portmap failed ADD, then DEL, so the undo never reached bridge's DEL
    const steps = await engine.api['timeline.steps']({ op: op.id });
    const undo = steps.find((s) => s.name === 'undo: teardown pod network (CNI DEL)')!;
    expect(undo.error).toBeUndefined();
    expect(undo.summary).toMatch(/portmap.*DEL.*CNIResult is nil/);
    expect(steps.map((s) => s.name)).not.toContain('kill failed sandbox');
    expect(done.leaks).toHaveLength(1);
    expect(done.leaks![0]).toMatch(
      /^IP reservation podnet\/10\.244\.1\.\d+ .*: \/var\/lib\/cni\/networks\/podnet\/10\.244\.1\.\d+ is still on node1's disk$/,
    );
    const ip = /podnet\/(10\.244\.1\.\d+)/.exec(done.leaks![0]!)![1]!;
    expect(existsSync(join(world.node('node1').host.dataDir, 'networks', 'podnet', ip))).toBe(true);
  });

  it('bad faults are refused with a clear error and change nothing', async () => {
    const before = (await engine.api['timeline.list']({})).length;
    await expect(
      engine.api['timeline.createPod']({
        name: 'x',
        node: 'node1',
        stepThrough: false,
        fault: { kind: 'plugin-fails', plugin: 'macvlan', on: 'ADD' },
      }),
    ).rejects.toThrow(
      "plugin macvlan is not in node1's network podnet (its plugins: bridge, portmap), so failing it would change nothing",
    );
    await expect(engine.api['timeline.createPod']({ name: 'web', node: 'node1', stepThrough: false })).rejects.toThrow(
      'pod web already exists: delete it first',
    );
    await expect(engine.api['timeline.deletePod']({ name: 'nope', stepThrough: false })).rejects.toThrow('no pod nope');
    await expect(engine.api['timeline.next']({ op: 9999 })).rejects.toThrow('no operation 9999 in the timeline');
    expect((await engine.api['timeline.list']({})).length).toBe(before);
  });

  it('the netns removed before DEL: teardown runs DEL with an empty CNI_NETNS, and the report says what was left', async () => {
    const pod = (await engine.api['pod.list']({})).find((p) => p.name === 'web')!;
    const m = seen.length;
    const op = await engine.api['timeline.deletePod']({
      name: 'web',
      stepThrough: true,
      fault: { kind: 'remove-netns' },
    });
    await pausedBefore(op.id, 'KillPod', m);
    await engine.api['timeline.continue']({ op: op.id });
    const done = await finished(op.id, m);
    expect(done.state).toBe('done');
    const steps = await engine.api['timeline.steps']({ op: op.id });
    expect(steps.map((s) => s.name)).toContain('fault: netns removed');
    const teardown = steps.find((s) => s.name === 'teardownPodNetwork')!;
    expect(teardown.summary).toMatch(/closed: DEL runs with an empty CNI_NETNS/);
    const del = steps.find((s) => s.name === 'bridge DEL')!;
    expect((await engine.api['timeline.detail']({ op: op.id, step: del.id })).env!.CNI_NETNS).toBe('');
    // The real bridge plugin releases the IP through host-local before it looks at the netns,
    // so nothing of this pod is left, and the report says exactly that.
    expect(done.leaks).toEqual([]);
    expect(existsSync(join(world.node('node1').host.dataDir, 'networks', 'podnet', pod.ip))).toBe(false);
    // later, the kubelet's garbage collection removes the sandbox: an operation of its own, not part of KillPod
    expect(steps.map((s) => s.name)).not.toContain('RemovePodSandbox');
    // (other collections may run meanwhile, with nothing to evict: find the one that removed web's sandbox)
    const gcSteps = await vi.waitFor(
      async () => {
        for (const o of (await engine.api['timeline.list']({})).filter((o) => o.kind === 'garbageCollect')) {
          const names = (await engine.api['timeline.steps']({ op: o.id })).map((x) => x.name);
          if (o.state === 'done' && names.includes('RemovePodSandbox')) return names;
        }
        throw new Error('no finished GarbageCollect removed a sandbox yet');
      },
      { timeout: 15_000, interval: 200 },
    );
    expect(gcSteps.slice(0, 3)).toEqual(['GarbageCollect', 'evictSandboxes', 'RemovePodSandbox']);
    expect(gcSteps).toContain('evictPodLogsDirectories');
  });

  it('stopping the world while a step-through is paused releases it: nothing is stuck', async () => {
    const m = seen.length;
    const op = await engine.api['timeline.createPod']({ name: 'stuck', node: 'node2', stepThrough: true });
    await pausedBefore(op.id, 'SyncPod', m);
    await engine.api['world.stop']({});
    expect(await engine.api['timeline.list']({})).toEqual([]);
    expect(engine.session.runningWorld).toBeUndefined();
  });
});
