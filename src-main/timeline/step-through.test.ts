import { describe, expect, it } from 'vitest';
import { Trace } from '../runtime/trace.js';
import { StepThrough } from './step-through.js';
import { detailOf, pretty, stepOf } from './timeline-part.js';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('StepThrough', () => {
  it('holds each step before it begins until next(), and continue() lets the rest run', async () => {
    const paused: (string | undefined)[] = [];
    const st = new StepThrough((n) => paused.push(n?.name));
    const t = new Trace();
    t.gate = st.gate;
    const ran: string[] = [];
    const op = t.step('kubelet', 'SyncPod', {}, async (h) => {
      ran.push('SyncPod');
      await t.step('kernel', 'NewNetNS', { parent: h.id }, async () => void ran.push('NewNetNS'));
      await t.step('containerd', 'setupPodNetwork', { parent: h.id }, async () => void ran.push('setupPodNetwork'));
      await t.step('kubelet', 'PodReadyToStartContainers', { parent: h.id }, async () => void ran.push('ready'));
    });
    await tick();
    expect(st.held?.name).toBe('SyncPod');
    expect(t.events).toEqual([]); // nothing has begun
    expect(st.next()).toBe(true);
    await tick();
    expect(st.held).toMatchObject({ component: 'kernel', name: 'NewNetNS', parent: 1 });
    expect(ran).toEqual(['SyncPod']);
    st.next();
    await tick();
    expect(st.held?.name).toBe('setupPodNetwork');
    expect(ran).toEqual(['SyncPod', 'NewNetNS']);
    expect(t.events.map((e) => [e.name, e.end !== undefined])).toEqual([
      ['SyncPod', false],
      ['NewNetNS', true],
    ]);
    st.continue();
    await op;
    expect(ran).toEqual(['SyncPod', 'NewNetNS', 'setupPodNetwork', 'ready']);
    expect(paused).toEqual(['SyncPod', undefined, 'NewNetNS', undefined, 'setupPodNetwork', undefined]);
    expect(st.next()).toBe(false);
  });

  it('queues concurrent steps and lets them go one at a time', async () => {
    const st = new StepThrough(() => {});
    const t = new Trace();
    t.gate = st.gate;
    const done: string[] = [];
    const both = Promise.all([
      t.step('cni', 'CNI ADD lo', {}, async () => void done.push('lo')),
      t.step('cni', 'CNI ADD eth0', {}, async () => void done.push('eth0')),
    ]);
    await tick();
    expect(st.held?.name).toBe('CNI ADD lo');
    st.next();
    await tick();
    expect(done).toEqual(['lo']);
    expect(st.held?.name).toBe('CNI ADD eth0');
    st.next();
    await both;
    expect(done).toEqual(['lo', 'eth0']);
  });

  it('a trace without a gate runs as before', async () => {
    const t = new Trace();
    expect(await t.step('kubelet', 'SyncPod', {}, async () => 42)).toBe(42);
    expect(t.events).toHaveLength(1);
  });
});

describe('step details', () => {
  it('takes a plugin exec apart: env, stdin and stdout pretty JSON, the rest as inputs/outputs', () => {
    const t = new Trace();
    const e = t.record(
      'cni',
      'bridge ADD',
      performance.timeOrigin + performance.now(),
      performance.timeOrigin + performance.now() + 3,
      {
        inputs: {
          path: '/opt/cni/bin/bridge',
          env: { CNI_COMMAND: 'ADD', CNI_NETNS: '/run/netns/cni-x' },
          stdin: { cniVersion: '1.0.0', type: 'bridge' },
        },
        outputs: { exitCode: 0, stdout: { ips: [{ address: '10.244.1.2/24' }] } },
        source: { label: 'x', url: 'https://example.invalid/x' },
      },
    );
    const d = detailOf(e);
    expect(d.env).toEqual({ CNI_COMMAND: 'ADD', CNI_NETNS: '/run/netns/cni-x' });
    expect(d.stdin).toBe('{\n  "cniVersion": "1.0.0",\n  "type": "bridge"\n}');
    expect(JSON.parse(d.stdout!)).toEqual({ ips: [{ address: '10.244.1.2/24' }] });
    expect(JSON.parse(d.inputs!)).toEqual({ path: '/opt/cni/bin/bridge' });
    expect(JSON.parse(d.outputs!)).toEqual({ exitCode: 0 });
    expect(d.source?.url).toBe('https://example.invalid/x');
    expect(stepOf(e)).toMatchObject({ id: 1, component: 'cni', name: 'bridge ADD', summary: 'ips 10.244.1.2/24' });
  });
  it('cuts a huge value and keeps text as it was', () => {
    expect(pretty('not json')).toBe('not json');
    expect(pretty('x'.repeat(300_000))).toMatch(/… \(100000 more characters\)$/);
  });
});
