// The kubelet side: SyncPod and KillPod over the CRI, pod workers that never run two operations on
// one pod, and the runtime status check that keeps pods off a node whose network is not ready.
import { randomUUID } from 'node:crypto';
import type { JsonObject } from '../cni/conf.js';
import type { World, WorldProcess } from '../world/world.js';
import {
  ContainerdNode,
  failedCleanupOf,
  type CriOptions,
  type LoopbackMode,
  type PodSandboxConfig,
  type RuntimeCondition,
} from './containerd.js';
import { nodeFile, nodeFolder } from '../fs/world-files.js';
import { NODE_PATHS } from '../world/world.js';
import {
  DEFAULT_KUBELET_DNS,
  podDnsConfig,
  type CriDnsConfig,
  type DnsPolicy,
  type KubeletDns,
  type PodDnsConfig,
} from './pod-dns.js';
import { SOURCES } from './sources.js';
import { Trace, type StepHandle } from './trace.js';

export interface ContainerSpec {
  name: string;
  /** A busybox command, for example ["httpd", "-f", "-p", "80"]. */
  command: string[];
}

export interface PodSpec {
  name: string;
  namespace?: string;
  node: string;
  initContainers?: ContainerSpec[];
  containers?: ContainerSpec[];
  /** Seconds between SIGTERM and SIGKILL when the pod is killed (Kubernetes' default is 30). */
  terminationGracePeriodSeconds?: number;
  /** Capability args for the CNI plugins (portMappings, bandwidth, …). */
  capabilityArgs?: JsonObject;
  /** How the pod's resolv.conf is made (Kubernetes' default: ClusterFirst). */
  dnsPolicy?: DnsPolicy;
  dnsConfig?: PodDnsConfig;
}

export interface PodConditions {
  PodReadyToStartContainers: boolean;
  Initialized: boolean;
  Ready: boolean;
}

export interface Pod {
  key: string;
  spec: PodSpec;
  uid: string;
  sandboxId: string;
  ip: string;
  additionalIps: string[];
  netns: string;
  /** PID (in the world) of the pod's pause process: its mount, UTS and network namespaces are the pod's. */
  sandboxPid: number;
  conditions: PodConditions;
  containers: { name: string; process: WorldProcess }[];
}

/** A SyncPod or KillPod as it is asked for: observers (the timeline) see its trace from the first step. */
export interface KubeletOperation {
  kind: 'syncPod' | 'killPod';
  /** default/<name> */
  pod: string;
  name: string;
  node: string;
  trace: Trace;
  done: Promise<unknown>;
}

/** What PrepareResources reports for a pod without DRA claims. */
const NO_CLAIMS = { claims: 0, note: 'no dynamic resources (DRA) claimed by this pod' };

/** Each container: SIGTERM, the grace period, then SIGKILL (kubelet's killContainersWithSyncResult). */
async function killContainersOf(pod: Pod, gracePeriodSeconds: number, h: StepHandle): Promise<void> {
  const grace = gracePeriodSeconds * 1000;
  const outcomes = await Promise.all(
    pod.containers.map(async (c) => {
      if (c.process.hasExited) return `${c.name}: already exited`;
      c.process.kill(15);
      const timer = new Promise<'timeout'>((res) => setTimeout(() => res('timeout'), grace).unref());
      if ((await Promise.race([c.process.exited, timer])) === 'timeout') {
        c.process.kill(9);
        await c.process.exited;
        return `${c.name}: SIGKILL after ${grace} ms grace`;
      }
      return `${c.name}: exited on SIGTERM`;
    }),
  );
  h.output({ outcomes });
}

export class KubeletError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeletError';
  }
}

const POD_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DEFAULT_GRACE_SECONDS = 2;

export class Kubelet {
  readonly runtimes = new Map<string, ContainerdNode>();
  readonly pods = new Map<string, Pod>();
  /** Pod workers: one chain of operations per pod. */
  private readonly workers = new Map<string, Promise<unknown>>();
  private readonly observers = new Set<(op: KubeletOperation) => void>();

  /** kubelet's --cluster-dns and --cluster-domain. */
  readonly dns: KubeletDns;

  constructor(
    readonly world: World,
    opts: CriOptions & { loopbackByNode?: Record<string, LoopbackMode>; dns?: Partial<KubeletDns> } = {},
  ) {
    this.dns = { ...DEFAULT_KUBELET_DNS, ...opts.dns };
    for (const name of world.nodes.keys()) {
      const loopback = opts.loopbackByNode?.[name] ?? opts.loopback;
      this.runtimes.set(name, new ContainerdNode(world, name, { ...opts, ...(loopback ? { loopback } : {}) }));
    }
  }

  runtime(node: string): ContainerdNode {
    const r = this.runtimes.get(node);
    if (!r) throw new KubeletError(`no node "${node}" (nodes: ${[...this.runtimes.keys()].join(', ')})`);
    return r;
  }

  /** The CRI Status call kubelet makes every 5 s (updateRuntimeUp). */
  nodeNetworkReady(node: string): RuntimeCondition {
    return this.runtime(node).networkReady();
  }

  /** Calls fn with every SyncPod and KillPod from now on, before its first step; returns the unsubscribe. */
  observe(fn: (op: KubeletOperation) => void): () => void {
    this.observers.add(fn);
    return () => void this.observers.delete(fn);
  }

  private announce(op: KubeletOperation): void {
    for (const fn of this.observers) {
      try {
        fn(op);
      } catch {
        /* an observer never changes what the kubelet does */
      }
    }
  }

  private onWorker<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.workers.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.workers.set(key, tail);
    void tail.then(() => {
      if (this.workers.get(key) === tail) this.workers.delete(key);
    });
    return next;
  }

  /** A pod by name as a lab names it: default/NAME, else the one pod of that name in another namespace. */
  podByName(name: string): Pod | undefined {
    const d = this.pods.get(`default/${name}`);
    if (d) return d;
    const others = [...this.pods.values()].filter((p) => p.spec.name === name);
    return others.length === 1 ? others[0] : undefined;
  }

  static key(spec: Pick<PodSpec, 'name' | 'namespace'>): string {
    return `${spec.namespace ?? 'default'}/${spec.name}`;
  }

  /** SyncPod for a new pod: sandbox, status, then init containers in order, then app containers. */
  syncPod(spec: PodSpec, trace = new Trace()): Promise<Pod> {
    if (!POD_NAME.test(spec.name) || spec.name.length > 63) {
      return Promise.reject(
        new KubeletError(
          `invalid pod name "${spec.name}": a DNS label (lowercase letters, digits and "-", at most 63)`,
        ),
      );
    }
    const key = Kubelet.key(spec);
    const done = this.onWorker(key, () => this.doSyncPod(spec, key, trace));
    this.announce({ kind: 'syncPod', pod: key, name: spec.name, node: spec.node, trace, done });
    return done;
  }

  private async doSyncPod(spec: PodSpec, key: string, trace: Trace): Promise<Pod> {
    const place = { pod: spec.name, node: spec.node };
    const syncPod = { ...place, source: SOURCES.syncPod, inputs: { pod: key, node: spec.node } };
    return trace.step('kubelet', 'SyncPod', syncPod, async (sync) => {
      const step = trace.under({ ...place, parent: sync.id });
      const rt = this.admit(spec, key);
      const uid = randomUUID();
      const namespace = spec.namespace ?? 'default';
      const logDirectory = `${NODE_PATHS.podLogsDir}/${namespace}_${spec.name}_${uid}`;
      await step('kubelet', 'PrepareResources', { source: SOURCES.prepareResources }, async (h) => h.output(NO_CLAIMS));
      // generatePodSandboxConfig: the pod's DNS from the node's resolv.conf (kubelet's --resolv-conf)
      const dns = await step('kubelet', 'GetPodDNS', this.podDnsSpec(spec), (h) => this.getPodDns(spec, namespace, h));
      const config = { name: spec.name, namespace, uid, hostname: spec.name, dnsConfig: dns, logDirectory };
      const sandboxId = await this.runPodSandbox(rt, spec, config, trace, sync.id);
      const status = await rt.podSandboxStatus(sandboxId, trace, sync.id);
      const pod: Pod = {
        key,
        spec,
        uid,
        sandboxId,
        ip: status.network.ip,
        additionalIps: status.network.additionalIps,
        netns: status.netns,
        sandboxPid: rt.sandbox(sandboxId).pause!.pid,
        conditions: { PodReadyToStartContainers: false, Initialized: false, Ready: false },
        containers: [],
      };
      // A failure from here on leaves the pod for KillPod to clean, as kubelet would before its retry.
      this.pods.set(key, pod);
      await step('kubelet', 'PodReadyToStartContainers', { source: SOURCES.podReadyToStartContainers }, async (h) => {
        pod.conditions.PodReadyToStartContainers = true;
        h.output({ status: 'True', podIP: pod.ip });
      });
      for (const c of spec.initContainers ?? []) {
        const init = { inputs: { command: c.command } };
        await step('kubelet', `init container ${c.name}`, init, (h) => this.runInit(rt, pod, c, logDirectory, h));
      }
      pod.conditions.Initialized = true;
      for (const c of spec.containers ?? []) {
        const start = { inputs: { command: c.command } };
        await step('kubelet', `start container ${c.name}`, start, async (h) => {
          const p = await rt.startContainer(sandboxId, c.command, `${logDirectory}/${c.name}/0.log`);
          pod.containers.push({ name: c.name, process: p });
          h.output({ pid: p.pid });
        });
      }
      pod.conditions.Ready = true;
      sync.output({ ip: pod.ip, sandboxId });
      return pod;
    });
  }

  /** The node's runtime, once the pod may start there: a new pod, on a node whose network is ready. */
  private admit(spec: PodSpec, key: string): ContainerdNode {
    if (this.pods.has(key)) throw new KubeletError(`pod "${key}" already exists on ${this.pods.get(key)!.spec.node}`);
    const rt = this.runtime(spec.node);
    const ready = rt.networkReady();
    if (!ready.status) {
      throw new KubeletError(
        `node ${spec.node} is NotReady: container runtime network not ready: NetworkReady=false reason:${ready.reason} message:${ready.message}`,
      );
    }
    return rt;
  }

  /** GetPodDNS's inputs: the pod's policy and config, and the kubelet's cluster DNS settings. */
  private podDnsSpec(spec: PodSpec) {
    const inputs = {
      dnsPolicy: spec.dnsPolicy ?? 'ClusterFirst',
      ...(spec.dnsConfig ? { dnsConfig: spec.dnsConfig } : {}),
      clusterDNS: this.dns.clusterDNS,
      clusterDomain: this.dns.clusterDomain,
      resolvConf: NODE_PATHS.resolvConf,
    };
    return { source: SOURCES.getPodDns, inputs };
  }

  private async getPodDns(spec: PodSpec, namespace: string, h: StepHandle): Promise<CriDnsConfig | undefined> {
    const pod = {
      namespace,
      ...(spec.dnsPolicy ? { dnsPolicy: spec.dnsPolicy } : {}),
      ...(spec.dnsConfig ? { dnsConfig: spec.dnsConfig } : {}),
    };
    const resolvConf = nodeFile(this.world, spec.node, 'resolvConf');
    const r = podDnsConfig(pod, this.dns, resolvConf.files.readFile(resolvConf.rel));
    h.output({
      dnsConfig: r.config,
      ...(r.warnings.length ? { events: r.warnings.map((w) => `Warning DNSConfigForming: ${w}`) } : {}),
    });
    return r.config;
  }

  /** CRI RunPodSandbox; a sandbox whose undo failed is stopped and removed at once, as the next SyncPod would. */
  private async runPodSandbox(
    rt: ContainerdNode,
    spec: PodSpec,
    config: Omit<PodSandboxConfig, 'capabilityArgs'>,
    trace: Trace,
    parent: number,
  ): Promise<string> {
    try {
      const caps = spec.capabilityArgs ? { capabilityArgs: spec.capabilityArgs } : {};
      return await rt.runPodSandbox({ ...config, ...caps }, trace, parent);
    } catch (e) {
      const failed = failedCleanupOf(e);
      if (failed) {
        // The next SyncPod kills a sandbox that is not ready: StopPodSandbox finishes what the undo could not.
        const inputs = { sandboxId: failed.sandboxId, cleanupError: failed.cleanupError.message };
        const place = { pod: spec.name, node: spec.node, parent, inputs };
        await trace
          .step('kubelet', 'kill failed sandbox', place, async (h) => {
            await rt.stopPodSandbox(failed.sandboxId, trace, h.id);
            await rt.removePodSandbox(failed.sandboxId, trace, h.id);
          })
          .catch(() => {});
      }
      throw e;
    }
  }

  private async runInit(rt: ContainerdNode, pod: Pod, c: ContainerSpec, logDirectory: string, h: StepHandle) {
    const p = await rt.startContainer(pod.sandboxId, c.command, `${logDirectory}/${c.name}/0.log`);
    const s = await p.exited;
    h.output({ exitCode: s.code });
    if (s.code !== 0)
      throw new KubeletError(
        `init container ${c.name} of pod ${pod.key} failed with exit code ${s.code ?? `signal ${s.signal}`}`,
      );
  }

  /** KillPod: containers (SIGTERM, grace, SIGKILL), then StopPodSandbox, then RemovePodSandbox. */
  killPod(name: string, namespace = 'default', trace = new Trace()): Promise<void> {
    const key = Kubelet.key({ name, namespace });
    const done = this.onWorker(key, async () => {
      const pod = this.pods.get(key);
      if (!pod) throw new KubeletError(`no pod "${key}"`);
      const rt = this.runtime(pod.spec.node);
      const o = { pod: name, node: pod.spec.node };
      await trace.step('kubelet', 'KillPod', { ...o, source: SOURCES.killPod, inputs: { pod: key } }, async (kill) => {
        const step = trace.under({ ...o, parent: kill.id });
        const gracePeriodSeconds = pod.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
        const containers = { containers: pod.containers.map((c) => c.name), gracePeriodSeconds };
        const killContainers = { source: SOURCES.killContainers, inputs: containers };
        await step('kubelet', 'kill containers', killContainers, (h) => killContainersOf(pod, gracePeriodSeconds, h));
        await rt.stopPodSandbox(pod.sandboxId, trace, kill.id);
        await rt.removePodSandbox(pod.sandboxId, trace, kill.id);
        // the pod's logs go with it (kubelet's pod log garbage collection)
        nodeFolder(this.world, pod.spec.node, 'podLogsDir').rm(`${pod.spec.namespace ?? 'default'}_${name}_${pod.uid}`);
        this.pods.delete(key);
      });
    });
    this.announce({ kind: 'killPod', pod: key, name, node: this.pods.get(key)?.spec.node ?? '', trace, done });
    return done;
  }

  /** Kills every pod (concurrently, one worker per pod). */
  async killAll(): Promise<void> {
    await Promise.allSettled(
      [...this.pods.values()].map((p) => this.killPod(p.spec.name, p.spec.namespace ?? 'default')),
    );
  }
}
