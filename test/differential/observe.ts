// One scenario through one runtime (the model, or the real containerd 2.1.9), observed the same way on
// both sides: every plugin call (the recording shims), the kernel state after setup, the CNI cache,
// NetworkReady and the errors the kubelet sees — normalised for ids, names and times.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoopbackMode } from '../../src-main/runtime/containerd.js';
import type { RuntimeKind } from '../../src-main/runtime/cri-runtime.js';
import { Kubelet, type Pod, type PodSpec } from '../../src-main/runtime/kubelet.js';
import { readPluginCalls, recordPluginCalls, type PluginCall } from '../../src-main/runtime/plugin-recorder.js';
import { Trace } from '../../src-main/runtime/trace.js';
import { RealContainerdNode } from '../../src-main/runtime/real-containerd.js';
import { createWorld, type World } from '../../src-main/world/world.js';

export interface Scenario {
  name: string;
  /** The node's CNI config files (name → text); the pod CIDR is 10.244.1.0/24. */
  conf: Record<string, string>;
  loopback?: LoopbackMode;
  pod?: Partial<PodSpec>;
  /** Before the kubelet starts: plugins added or removed on node1. */
  before?: (w: World) => Promise<void>;
  /** Between setup and KillPod (for example: the config removed). */
  afterSetup?: (w: World) => Promise<void>;
  /** What both runtimes must show (so that two empty observations cannot agree by accident). */
  expect: { setupError?: RegExp; notReady?: boolean; interfaces: string[]; killError?: RegExp };
}

export interface Observation {
  networkReady: { status: boolean; reason: string; message: string };
  setupError?: string;
  /** Plugin calls per interface (lo, eth0…), in order; the two networks run concurrently in containerd. */
  calls: Record<string, NormalCall[]>;
  pod?: { links: unknown; routes: unknown; resolvConf: string };
  node?: { links: unknown; qdiscs: string };
  cacheAfterSetup: Record<string, unknown>;
  killError?: string;
  gcError?: string;
  cacheAfterTeardown: Record<string, unknown>;
}

export interface NormalCall {
  command: string;
  plugin: string;
  env: Record<string, string>;
  stdin: unknown;
  exit: number;
}

/**
 * The differences between the model and the real containerd that docs/architecture.md lists (table
 * "The model against the real containerd"), each with what the test does about it. Any other
 * difference fails the test.
 */
export const LISTED_DIFFERENCES = [
  {
    id: 'D1',
    what: "CNI_ARGS and the cache's cniArgs: containerd's order comes from a Go map and changes from call to call",
    both: (text: string) => text,
  },
  {
    id: 'D2',
    what: 'CNI_NETNS: containerd names /var/run/netns/cni-…, the model /run/netns/cni-… (the same file)',
    real: (text: string) => text.replace(/\/var\/run\/netns\//g, '/run/netns/'),
  },
] as const;

const d2 = LISTED_DIFFERENCES[1].real;

/** Ids, names and addresses that differ from run to run, replaced by what they are. */
export function normalise(text: string, ids: Map<string, string>): string {
  const name = (v: string, kind: string) => {
    if (!ids.has(v)) ids.set(v, `<${kind}${[...ids.values()].filter((x) => x.startsWith(`<${kind}`)).length || ''}>`);
    return ids.get(v)!;
  };
  return (
    text
      .replace(/\/run\/netns\/cni-[0-9a-f-]{36}/g, '<netns>')
      .replace(/\b[0-9a-f]{64}\b/g, (m) => name(m, 'id'))
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, (m) => name(m, 'uid'))
      .replace(/\bveth[0-9a-f]{8}\b/g, (m) => name(m, 'veth'))
      // the bandwidth plugin's ifb device: "bwp" and a hash of the container id
      .replace(/\bbwp[0-9a-f]{12}\b/g, (m) => name(m, 'ifb'))
      .replace(/\b([0-9a-f]{2}:){5}[0-9a-f]{2}\b/g, '<mac>')
      .replace(/\bfe80::[0-9a-f:]+/g, '<link-local>')
  );
}

function normalCall(c: PluginCall, norm: (t: string) => string): NormalCall {
  const env = { ...c.env };
  // D1: containerd builds CNI_ARGS from a Go map: its order differs from call to call
  if (env.CNI_ARGS) env.CNI_ARGS = env.CNI_ARGS.split(';').sort().join(';');
  let stdin: unknown;
  try {
    stdin = JSON.parse(norm(c.stdin));
  } catch {
    stdin = norm(c.stdin);
  }
  return {
    command: env.CNI_COMMAND ?? '',
    plugin: c.plugin,
    env: JSON.parse(norm(JSON.stringify(env))) as Record<string, string>,
    stdin,
    exit: c.exit,
  };
}

/** The CNI cache on node1: every file under /var/lib/cni, its content normalised. */
function cacheOf(w: World, norm: (t: string) => string): Record<string, unknown> {
  const root = w.node('node1').host.dataDir;
  const out: Record<string, unknown> = {};
  const walk = (dir: string, rel: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p, r);
      else {
        const text = norm(readFileSync(p, 'utf8'));
        let v: unknown = text;
        try {
          v = JSON.parse(text);
          // D1: containerd's cniArgs come in a Go map's order
          const cached = v as { cniArgs?: [string, string][] };
          if (Array.isArray(cached.cniArgs)) cached.cniArgs.sort((a, b) => a[0].localeCompare(b[0]));
        } catch {
          /* a reservation file holds an id and an interface name */
        }
        out[norm(r)] = v;
      }
    }
  };
  walk(root, '');
  return out;
}

const json = async (w: World, target: Parameters<World['run']>[0], argv: string[]) =>
  JSON.parse((await w.run(target, argv)) || '[]') as Record<string, unknown>[];

/** What the pod's and node's kernels hold, in the fields that teach (no macs, indexes or timers). */
async function kernelOf(w: World, pod: Pod, pausePid: number, norm: (t: string) => string) {
  const target = { kind: 'pod' as const, node: 'node1', netns: pod.netns };
  const linkView = (l: Record<string, unknown>) => ({
    ifname: l.ifname,
    flags: l.flags,
    mtu: l.mtu,
    operstate: l.operstate,
    master: l.master,
    kind: (l.linkinfo as { info_kind?: string } | undefined)?.info_kind,
    addrs: ((l.addr_info as { family: string; local: string; prefixlen: number; scope: string }[]) ?? [])
      .filter((a) => a.scope !== 'link')
      .map((a) => `${a.family} ${a.local}/${a.prefixlen}`),
  });
  const podLinks = (await json(w, target, ['ip', '-d', '-j', 'addr'])).map(linkView);
  const podRoutes = [
    ...(await json(w, target, ['ip', '-j', '-4', 'route', 'show', 'table', 'all'])),
    ...(await json(w, target, ['ip', '-j', '-6', 'route', 'show', 'table', 'main'])),
  ].filter((r) => !String(r.dst).startsWith('fe80') && r.dst !== 'multicast');
  const nodeLinks = (await json(w, { kind: 'node', node: 'node1' }, ['ip', '-d', '-j', 'addr'])).map(linkView);
  const qdiscs = await w.run({ kind: 'node', node: 'node1' }, ['tc', 'qdisc', 'show']);
  const resolvConf = (await w.exec({ kind: 'node', node: 'node1' }, ['cat', `/proc/${pausePid}/root/etc/resolv.conf`]))
    .stdout;
  return {
    pod: {
      links: JSON.parse(norm(JSON.stringify(podLinks))) as unknown,
      routes: JSON.parse(norm(JSON.stringify(podRoutes))) as unknown,
      resolvConf,
    },
    node: {
      links: JSON.parse(norm(JSON.stringify(nodeLinks))) as unknown,
      qdiscs: norm(qdiscs)
        .replace(/\b(handle|parent) [0-9a-f]+:[0-9a-f]*/g, '$1 <h>')
        .split('\n')
        .filter(Boolean)
        .sort()
        .join('\n'),
    },
  };
}

/** The pod's pause process: the model's is the sandbox's PID; the real one's containerd reports. */
const pausePid = (k: Kubelet, pod: Pod) => {
  const cri = k.cri('node1');
  return cri instanceof RealContainerdNode ? cri.pausePid(pod.sandboxId) : pod.sandboxPid;
};

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Runs the scenario in a fresh one-node world on `runtime`, and observes it. */
export async function observe(sc: Scenario, runtime: RuntimeKind): Promise<Observation> {
  const w = await createWorld({ nodes: 1 });
  const ids = new Map<string, string>();
  const norm = (t: string) => normalise(runtime === 'containerd' ? d2(t) : t, ids);
  let kubelet: Kubelet | undefined;
  try {
    const confDir = w.node('node1').host.confDir;
    for (const [f, text] of Object.entries(sc.conf)) writeFileSync(join(confDir, f), text);
    await sc.before?.(w);
    kubelet = new Kubelet(w, {
      gcDelayMs: 0,
      relistPeriodMs: 0,
      runtimeStatusPeriodMs: 0,
      ...(sc.loopback ? { loopback: sc.loopback } : {}),
    });
    let records: string;
    if (runtime === 'containerd') {
      await kubelet.useRealContainerd();
      records = join(w.stateDir, 'nodes', 'node1', 'cni-calls');
    } else records = await recordPluginCalls(w, 'node1');
    const status = await kubelet.runtimeStatus('node1');
    const nr = status.conditions[1]!;
    const obs: Observation = {
      networkReady: { status: nr.status, reason: nr.reason, message: norm(nr.message) },
      calls: {},
      cacheAfterSetup: {},
      cacheAfterTeardown: {},
    };
    const spec: PodSpec = {
      name: 'web',
      node: 'node1',
      containers: [{ name: 'httpd', command: ['httpd', '-f', '-p', '80'] }],
      ...sc.pod,
    };
    let pod: Pod | undefined;
    try {
      pod = await kubelet.syncPod(spec, new Trace());
    } catch (e) {
      obs.setupError = norm(message(e));
    }
    if (pod) Object.assign(obs, await kernelOf(w, pod, pausePid(kubelet, pod), norm));
    obs.cacheAfterSetup = cacheOf(w, norm);
    if (pod) {
      await sc.afterSetup?.(w);
      await kubelet.killPod('web', 'default', new Trace()).catch((e: unknown) => {
        obs.killError = norm(message(e));
      });
    }
    await kubelet.garbageCollect(new Trace()).catch((e: unknown) => {
      obs.gcError = norm(message(e));
    });
    obs.cacheAfterTeardown = cacheOf(w, norm);
    for (const c of readPluginCalls(records)) {
      const n = normalCall(c, norm);
      (obs.calls[c.env.CNI_IFNAME ?? '?'] ??= []).push(n);
    }
    return obs;
  } finally {
    await kubelet?.close();
    await w.destroy();
  }
}
