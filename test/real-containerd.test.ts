// The real containerd 2.1.9 in a world: `podnet trace --runtime containerd` as root and as nobody, and
// SIGKILL of the app in the middle of it — each leaves the host as it was (no process, mount, cgroup
// or interface).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostDiff, hostSnapshot } from '../src-main/runtime/leaks.js';
import { Kubelet } from '../src-main/runtime/kubelet.js';
import { Trace, type PendingStep } from '../src-main/runtime/trace.js';
import { spawnAsNobody, withWorld, writeDefaultConf } from './helpers.js';

const PODNET = join(import.meta.dirname, '../bin/podnet.mjs');
const started = new Set<ChildProcess>();
afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** The host's cgroup folders two levels deep: runc as real root would add kubepods/ or k8s.io/ here. */
function cgroups(): string[] {
  const root = '/sys/fs/cgroup';
  const out: string[] = [];
  for (const a of readdirSync(root, { withFileTypes: true })) {
    if (!a.isDirectory()) continue;
    out.push(a.name);
    try {
      for (const b of readdirSync(join(root, a.name), { withFileTypes: true }))
        if (b.isDirectory()) out.push(`${a.name}/${b.name}`);
    } catch {
      /* not ours to read */
    }
  }
  return out.sort();
}

interface TraceReport {
  ok: boolean;
  containerd: { version: string; package: string; startMs: number };
  setup: { pod: string; ip?: string; error?: string; trace: { component: string; name: string }[] }[];
  teardown: { trace: { component: string; name: string }[] }[];
  leftovers: string[];
  hostDiff: string[];
}

function trace(asNobody: boolean): TraceReport {
  const argv = [process.execPath, PODNET, 'trace', '--runtime', 'containerd', '--json'];
  const r = asNobody
    ? spawnAsNobody(argv, 120_000)
    : spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 120_000 });
  expect(r.status, r.stderr + r.stdout.slice(-2000)).toBe(0);
  return JSON.parse(r.stdout) as TraceReport;
}

describe('podnet trace --runtime containerd', () => {
  for (const asNobody of [false, true]) {
    it(`runs a pod on the real containerd 2.1.9 ${asNobody ? 'as nobody' : 'as this user'} and leaves the host as it was`, () => {
      const before = cgroups();
      const r = trace(asNobody);
      expect(r.ok).toBe(true);
      expect(r.containerd.version).toMatch(/^2\.1\.9/);
      expect(r.setup[0]!.ip).toMatch(/^10\.244\.1\.\d+$/);
      const names = r.setup[0]!.trace.map((e) => `${e.component}:${e.name}`);
      // the CRI calls, and under them the plugin calls the shims saw
      expect(names).toEqual(
        expect.arrayContaining([
          'cri:RunPodSandbox',
          'cri:PodSandboxStatus',
          'cni:bridge ADD',
          'cni:host-local ADD',
          'cni:loopback ADD',
          'cni:portmap ADD',
        ]),
      );
      const down = r.teardown[0]!.trace.map((e) => `${e.component}:${e.name}`);
      expect(down).toEqual(expect.arrayContaining(['cri:StopContainer', 'cri:StopPodSandbox', 'cni:bridge DEL']));
      expect(r.leftovers).toEqual([]);
      expect(r.hostDiff).toEqual([]);
      expect(cgroups()).toEqual(before);
    }, 150_000);
  }

  it('leaves nothing on the host when the app is killed (SIGKILL) while containerd runs a pod', async () => {
    const before = cgroups();
    const child = spawn(process.execPath, [PODNET, 'trace', '--runtime', 'containerd', '--pods', '2'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    started.add(child);
    const mine = `world-${child.pid}-`;
    const host = hostSnapshot(mine);
    // killed once the second pod's sandbox is being made: containerd, a shim and a pause run then
    await new Promise<void>((resolve) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('── SyncPod web-2')) resolve();
      });
      child.on('exit', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(child.exitCode).toBeNull();
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    let diff: string[] = [];
    for (let i = 0; i < 50; i++) {
      diff = hostDiff(host, hostSnapshot(mine));
      if (!diff.length && !hostSnapshot(mine).processes.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(diff).toEqual([]);
    expect(hostSnapshot(mine).processes).toEqual([]);
    expect(cgroups()).toEqual(before);
  }, 120_000);
});

describe('the kubelet on the real containerd', () => {
  it('pauses before each CRI call (step-through), and places every plugin call under the CRI call that made it', async () => {
    await withWorld(1, async (w) => {
      writeDefaultConf(w);
      const k = new Kubelet(w, { gcDelayMs: 0, relistPeriodMs: 0, runtimeStatusPeriodMs: 0 });
      try {
        await k.useRealContainerd();
        expect(k.runtimeOf('node1')).toMatch(/^containerd 2\.1\.9$/);
        const trace = new Trace();
        const paused: PendingStep[] = [];
        // a gate that holds each CRI call until the test has seen that nothing of it ran yet
        trace.gate = async (next) => {
          paused.push(next);
          if (next.component === 'cri')
            expect(trace.events.some((e) => e.component === 'cri' && e.name === next.name)).toBe(false);
        };
        const pod = await k.syncPod(
          { name: 'web', node: 'node1', containers: [{ name: 'httpd', command: ['httpd', '-f', '-p', '80'] }] },
          trace,
        );
        expect(pod.ip).toMatch(/^10\.244\.1\./);
        expect(paused.filter((p) => p.component === 'cri').map((p) => p.name)).toEqual([
          'RunPodSandbox',
          'PodSandboxStatus',
        ]);
        const run = trace.events.find((e) => e.name === 'RunPodSandbox')!;
        const adds = trace.events.filter((e) => e.component === 'cni');
        expect(adds.map((e) => e.name).sort()).toEqual(['bridge ADD', 'host-local ADD', 'loopback ADD', 'portmap ADD']);
        for (const a of adds) expect(a.parent).toBe(run.id);
        // containerd's own log lines for the call are under it too
        expect(
          trace.events.some(
            (e) => e.component === 'containerd' && e.parent === run.id && /RunPodSandbox for/.test(e.name),
          ),
        ).toBe(true);
        await k.killPod('web');
      } finally {
        await k.close();
      }
    });
  }, 120_000);
});
