// Test helpers: real worlds, configs written where a node reads them, plugin scripts added the way a lab adds them.
import { execFile, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { parsePayload, type EventName } from '../src-main/api/contract.js';
import { bridgeConfList } from '../src-main/cni/defaults.js';
import type { Hop, PathResult } from '../src-main/path/follow.js';
import type { Kubelet } from '../src-main/runtime/kubelet.js';
import { settledPodLeftovers, strayProcesses } from '../src-main/runtime/leaks.js';
import type { EngineEvents, Session } from '../src-main/session/session.js';
import { createWorld, type World } from '../src-main/world/world.js';

/** An event a part under test emitted, as recordingSession keeps it. */
export interface SeenEvent {
  event: EventName;
  payload: unknown;
}

/** A session for a part under test: every event it emits is checked against the contract, as a client would on arrival, and kept in `seen`. */
export function recordingSession(world: World, kubelet: Kubelet, seen: SeenEvent[], events: EngineEvents): Session {
  return {
    world,
    kubelet,
    emit: (event, payload) => {
      parsePayload(event, payload);
      seen.push({ event, payload });
      events.emit('event', event, payload);
    },
    events,
    podsChanged: () => events.emit('event', 'pods.changed', []),
  };
}

/** SyncPod's steps (component:name) in DESIGN.md's order, for a pod with one container "httpd" (plugin execs left out). */
export const SYNCPOD_STEPS_INTERNAL = [
  'kubelet:SyncPod',
  'kubelet:NetworkReady gate',
  'kubelet:PrepareResources',
  'kubelet:GetPodDNS',
  'cri:RunPodSandbox',
  'kernel:NewNetNS',
  'containerd:setupPodNetwork',
  'kernel:bringUpLoopback (use_internal_loopback)',
  'cni:CNI ADD',
  'containerd:pod IPs from result',
  'containerd:setupSandboxFiles',
  'containerd:start sandbox container (pause)',
  'cri:PodSandboxStatus',
  'containerd:getIPs',
  'kubelet:PodReadyToStartContainers',
  'kubelet:start container httpd',
];

/** SyncPod's steps with containerd 2.x's default loopback plugin: cni-loopback and the pod network, concurrently. */
export const SYNCPOD_STEPS = SYNCPOD_STEPS_INTERNAL.flatMap((s) =>
  s === 'kernel:bringUpLoopback (use_internal_loopback)' ? [] : s === 'cni:CNI ADD' ? [s, s] : [s],
);

/** KillPod's steps (component:name) in DESIGN.md's order (plugin execs left out). */
export const KILLPOD_STEPS = [
  'kubelet:KillPod',
  'kubelet:kill containers',
  'kubelet:killContainer httpd',
  'cri:StopContainer',
  'cri:StopPodSandbox',
  'containerd:stop sandbox container (pause)',
  'containerd:teardownPodNetwork',
  'cni:CNI DEL',
  'kernel:remove netns',
];

/** KillPod's steps with containerd 2.x's default loopback plugin: a DEL for cni-loopback and one for the pod network. */
export const KILLPOD_STEPS_PLUGIN = KILLPOD_STEPS.flatMap((s) => (s === 'cni:CNI DEL' ? [s, s] : [s]));

/** The kubelet's garbage collection after KillPod (component:name, plugin execs left out). */
export const GC_STEPS = [
  'kubelet:GarbageCollect',
  'kubelet:evictSandboxes',
  'cri:RemovePodSandbox',
  'cri:StopPodSandbox',
  'containerd:teardownPodNetwork',
  'cni:CNI DEL',
  'kernel:remove netns',
  'kubelet:evictPodLogsDirectories',
];

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until cond() holds, checking every 20 ms; after timeoutMs, fails naming what it waited for. */
export async function until(what: string, cond: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export async function withWorld<T>(nodes: number, fn: (w: World) => Promise<T>): Promise<T> {
  const w = await createWorld({ nodes });
  try {
    return await fn(w);
  } finally {
    await w.destroy();
  }
}

export function writeConf(w: World, node: string, file: string, conf: unknown): void {
  writeFileSync(join(w.node(node).host.confDir, file), typeof conf === 'string' ? conf : JSON.stringify(conf, null, 2));
}

export function writeDefaultConf(w: World, node = 'node1'): void {
  writeConf(w, node, '10-podnet.conflist', bridgeConfList(w.node(node).podCidr));
}

/** Adds an executable plugin to a node's /opt/cni/bin, written from inside the node. */
export async function addPlugin(w: World, node: string, name: string, script: string): Promise<void> {
  await w.run({ kind: 'node', node }, ['sh', '-c', `cat > /opt/cni/bin/${name} && chmod 755 /opt/cni/bin/${name}`], {
    input: script,
  });
}

export const bridgePlugin = (subnet: string, extra: Record<string, unknown> = {}) => ({
  type: 'bridge',
  bridge: 'cni0',
  isGateway: true,
  ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }] },
  ...extra,
});

export async function podRun(w: World, node: string, netns: string, cmd: string) {
  return w.exec({ kind: 'pod', node, netns }, ['sh', '-c', cmd]);
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

/** Nothing of pods is left. The kernel destroys a network namespace (and its veths) asynchronously, so allow it a moment. */
export async function expectClean(w: World, node = 'node1'): Promise<void> {
  expect((await settledPodLeftovers(w, node, 3000, (items) => items.length > 0)).items).toEqual([]);
  expect(await strayProcesses(w)).toEqual([]);
}

/** A WebSocket message's text (ws hands a Buffer, an ArrayBuffer or fragments). */
export function wsText(d: Buffer | ArrayBuffer | Buffer[]): string {
  return (Array.isArray(d) ? Buffer.concat(d) : Buffer.from(d as ArrayBuffer)).toString('utf8');
}

/** Runs a fixture (argv) as this user, or as nobody through setpriv, and parses the last line it printed as JSON. */
export function lastJsonOf<T>(argv: string[], asNobody: boolean, timeoutMs = 60_000): T {
  const r = asNobody
    ? spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', ...argv], {
        encoding: 'utf8',
        timeout: timeoutMs,
      })
    : spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: timeoutMs });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as T;
}

/** Runs argv as nobody (setpriv), with a clean environment but PATH: the unprivileged user's path. */
export function spawnAsNobody(argv: string[], timeoutMs = 60_000) {
  return spawnSync(
    'setpriv',
    [
      '--reuid=nobody',
      '--regid=nogroup',
      '--clear-groups',
      '--',
      'env',
      '-i',
      `PATH=${process.env.PATH}`,
      'HOME=/tmp',
      ...argv,
    ],
    { encoding: 'utf8', timeout: timeoutMs },
  );
}

/** bin/podnet.mjs, the CLI the README gives. */
export const PODNET = join(dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'podnet.mjs');

/** Runs the podnet CLI from the repository's root: its exit code and output (a timeout is a null code). */
export function podnetCli(
  args: string[],
  timeoutMs = 240_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [PODNET, ...args],
      { cwd: join(dirname(PODNET), '..'), timeout: timeoutMs, maxBuffer: 16 << 20 },
      (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

/** What a cluster test's script printed between its `=== NAME` mark and the next one. */
export function section(out: string, name: string): string {
  const m = new RegExp(`=== ${name}\\n([\\s\\S]*?)(?=\\n=== )`).exec(out);
  if (!m) throw new Error(`no section ${name} in:\n${out}`);
  return m[1]!;
}

/** QEMU processes of podnet's VMs on this host in `mode` (their kernel command line names it). */
export function podnetQemus(mode: 'run' | 'web'): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.startsWith('qemu-system') && cmd.includes(`podnet.mode=${mode}`)) pids.push(Number(p));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

/** A follow's hops on one leg, each as "space ifname direction". */
export const legOf = (r: PathResult, leg: Hop['leg']) =>
  r.hops.filter((h) => h.leg === leg).map((h) => `${h.space} ${h.ifname} ${h.direction}`);

/** The way back along a leg: its hops in reverse, each one's direction turned. */
export const reversedLeg = (path: string[]) =>
  [...path].reverse().map((s) => s.replace(/ (in|out)$/, (_, d: string) => (d === 'in' ? ' out' : ' in')));

/** The request went `there`, hop by hop, and the reply came back the same way. */
export function expectLegs(r: PathResult, there: string[]): void {
  expect(legOf(r, 'request')).toEqual(there);
  expect(legOf(r, 'reply')).toEqual(reversedLeg(there));
}
