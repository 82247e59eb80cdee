// The kubelet side (1.35): SyncPod and KillPod (each container's preStop hook, then CRI StopContainer with
// what is left of the grace period) over the CRI, pod workers that never run two operations
// on one pod, the NetworkReady gate, a PLEG-like relist that rebuilds a pod whose sandbox died, KillPod
// retries, and the garbage collection that removes dead sandboxes and pod logs later.
import { randomUUID } from 'node:crypto';
import type { JsonObject } from '../cni/conf.js';
import type { PortMapping } from '../cni/capability-args.js';
import type { World } from '../world/world.js';
import type { CriRuntime, RunningContainer } from './cri-runtime.js';
import { startRealContainerd } from './real-containerd.js';
import {
  ContainerdNode,
  failedCleanupOf,
  type CriOptions,
  type LoopbackMode,
  type PodSandbox,
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
import { httpGet } from './node-dial.js';
import { SOURCES } from './sources.js';
import { Trace, type StepHandle, type StepIn } from './trace.js';
import { goSleep } from './go-sleep.js';

export interface ContainerPort {
  containerPort: number;
  /** With a hostPort, containerd passes a portMappings capability (the portmap plugin's). */
  hostPort?: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  hostIP?: string;
}

/** A container lifecycle handler (preStop): a command in the container, or an HTTP GET to the pod. */
export interface LifecycleHandler {
  exec?: { command: string[] };
  httpGet?: { path?: string; port: number; host?: string; httpHeaders?: { name: string; value: string }[] };
  /** The sleep action (PodLifecycleSleepAction): the kubelet waits, nothing runs in the container. */
  sleep?: { seconds: number };
}

export interface ContainerSpec {
  name: string;
  /** A busybox command, for example ["httpd", "-f", "-p", "80"]. */
  command: string[];
  ports?: ContainerPort[];
  /** Run by killContainer before the stop signal; its time comes out of the grace period. */
  preStop?: LifecycleHandler;
}

/** An event the kubelet records about a pod while it kills it (Killing, FailedPreStopHook). */
export interface KubeletEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  container?: string;
}

export interface KillPodOptions {
  /** The pod's deletionGracePeriodSeconds: it wins over terminationGracePeriodSeconds (killContainer). */
  gracePeriodSeconds?: number;
  /** Events as the kubelet's recorder would post them. */
  onEvent?: (e: KubeletEvent) => void;
  /** Run first, as a step of KillPod (syncTerminatingPod's SetPodStatus before killPod). */
  before?: (step: StepIn) => Promise<void>;
}

/** kubelet's minimumGracePeriodInSeconds: a container always gets this long between SIGTERM and SIGKILL. */
export const MINIMUM_GRACE_SECONDS = 2;

export interface PodSpec {
  name: string;
  namespace?: string;
  /** The API object's uid (the pod's log folder and CNI's K8S_POD_UID carry it); a new one where not given. */
  uid?: string;
  node: string;
  initContainers?: ContainerSpec[];
  containers?: ContainerSpec[];
  /** Seconds between SIGTERM and SIGKILL when the pod is killed (Kubernetes' default: 30 s; the lab's: 2 s). */
  terminationGracePeriodSeconds?: number;
  /** The pod's annotations: passed to CNI; kubernetes.io/ingress-bandwidth and egress-bandwidth shape it. */
  annotations?: Record<string, string>;
  /** The node's network namespace: no netns, no CNI; admitted while NetworkReady is false. */
  hostNetwork?: boolean;
  /** The lab's own extra capability args for the plugins (not something kubelet passes). */
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
  /** The sandbox's attempt: 0, then +1 each time the kubelet rebuilds a dead sandbox. */
  attempt: number;
  /** The pod IP; for a hostNetwork pod, the node's IP (as the kubelet reports it). */
  ip: string;
  additionalIps: string[];
  /** The pod's pinned netns; "" for a hostNetwork pod. */
  netns: string;
  /** PID (in the world) of the pod's pause process: its mount, UTS and network namespaces are the pod's. */
  sandboxPid: number;
  conditions: PodConditions;
  containers: RunningContainer[];
  /** KillPod began and has not yet succeeded (kubectl would show Terminating). */
  terminating?: boolean;
}

/** A kubelet operation as it is asked for: observers (the timeline) see its trace from the first step. */
export interface KubeletOperation {
  kind: 'syncPod' | 'killPod';
  /** default/<name> */
  pod: string;
  name: string;
  node: string;
  trace: Trace;
  done: Promise<unknown>;
}

/** The kubelet's garbage collection, as it begins (every node's dead sandboxes and pod logs). */
export interface KubeletGcOperation {
  kind: 'garbageCollect';
  trace: Trace;
  done: Promise<unknown>;
}

export interface KubeletOptions extends CriOptions {
  loopbackByNode?: Record<string, LoopbackMode>;
  dns?: Partial<KubeletDns>;
  /** The PLEG-like relist period (sandbox deaths, KillPod retries); 0: only on exit events. Default 1000. */
  relistPeriodMs?: number;
  /** The CRI Status loop (kubelet's updateRuntimeUp); 0: only when asked. Default 5000. */
  runtimeStatusPeriodMs?: number;
  /** The garbage collection after a KillPod (real kubelet: every minute); 0: only garbageCollect(). Default 1000. */
  gcDelayMs?: number;
  /** Each node's runtime over the CRI where it is not the model (the real containerd: startRealContainerd). */
  criRuntimes?: Map<string, CriRuntime>;
}

/** A pod whose creation failed and left its sandbox behind. */
interface FailedSync {
  node: string;
  uid: string;
  attempt: number;
  sandboxId: string;
  /** Stopped by a sync already (the GC may remove it). */
  stopped?: boolean;
}

/** What PrepareResources reports for a pod without DRA claims. */
const NO_CLAIMS = { claims: 0, note: 'no dynamic resources (DRA) claimed by this pod' };

export class KubeletError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KubeletError';
  }
}

const POD_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** The lab's default grace period; Kubernetes' is 30 s. */
export const DEFAULT_GRACE_SECONDS = 2;

/** kubelet's NetworkNotReadyErrorMsg, and the runtime state's networkErrors() text. */
export const networkNotReadyError = (c: RuntimeCondition) =>
  `network is not ready: container runtime network not ready: NetworkReady=false reason:${c.reason} message:${c.message}`;

/** The cgroup parent the kubelet gives a BestEffort pod (cgroupfs driver; systemd: kubepods-besteffort-pod<uid>.slice). */
export const podCgroupParent = (uid: string) => `/kubepods/besteffort/pod${uid}`;

export class Kubelet {
  /** The model of each node's containerd: its config view and plugin executor (the editor's, the labs'). */
  readonly runtimes = new Map<string, ContainerdNode>();
  /** The runtime each node's pods run on over the CRI: the model itself, or the real containerd. */
  readonly cris = new Map<string, CriRuntime>();
  readonly pods = new Map<string, Pod>();
  /** Pod workers: one chain of operations per pod. */
  private readonly workers = new Map<string, Promise<unknown>>();
  private readonly busy = new Set<string>();
  private readonly observers = new Set<(op: KubeletOperation) => void>();
  private readonly gcObservers = new Set<(op: KubeletGcOperation) => void>();
  /** Pods whose last sync failed and left a sandbox (containerd's cleanupErr): the next sync kills it. */
  private readonly failedSyncs = new Map<string, FailedSync>();
  private readonly timers: NodeJS.Timeout[] = [];
  private gcTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly gcDelayMs: number;

  /** kubelet's --cluster-dns and --cluster-domain. */
  readonly dns: KubeletDns;

  constructor(
    readonly world: World,
    opts: KubeletOptions = {},
  ) {
    this.dns = { ...DEFAULT_KUBELET_DNS, ...opts.dns };
    this.gcDelayMs = opts.gcDelayMs ?? 1000;
    for (const name of world.nodes.keys()) {
      const loopback = opts.loopbackByNode?.[name] ?? opts.loopback;
      const rt = new ContainerdNode(world, name, { ...opts, ...(loopback ? { loopback } : {}) });
      // the exit event reaches the PLEG at once: the pod's next sync sees the sandbox changed
      this.runtimes.set(name, rt);
      const cri = opts.criRuntimes?.get(name) ?? rt;
      cri.onSandboxExit((sb) => this.onSandboxExit(sb));
      this.cris.set(name, cri);
    }
    const period = opts.relistPeriodMs ?? 1000;
    if (period > 0) this.timers.push(setInterval(() => this.relist(), period).unref());
    // updateRuntimeUp: the CRI Status every 5 s keeps the STATUS verdicts fresh for nodeNetworkReady()
    const statusPeriod = opts.runtimeStatusPeriodMs ?? 5000;
    if (statusPeriod > 0) this.timers.push(setInterval(() => this.updateRuntimeUp(), statusPeriod).unref());
  }

  private updateRuntimeUp(): void {
    if (this.stopped) return;
    if (!this.world.alive) return this.stop();
    for (const rt of this.cris.values()) void rt.status().catch(() => {});
  }

  /**
   * Moves the pods of every node (or of `nodes`) onto the real containerd 2.1, started now on each with
   * the node's loopback setting; the kubelet is the same. Call before any pod exists.
   */
  async useRealContainerd(opts: { nodes?: string[] } = {}): Promise<void> {
    if (this.pods.size) throw new KubeletError('the runtime is chosen before the first pod');
    const chosen = new Map([...this.runtimes].filter(([n]) => !opts.nodes || opts.nodes.includes(n)));
    const real = await startRealContainerd(this.world, chosen);
    for (const [name, rt] of real) {
      rt.onSandboxExit((sb) => this.onSandboxExit(sb));
      this.cris.set(name, rt);
    }
  }

  /** Which runtime the nodes run: the model, or the real containerd. */
  get runtimeKind(): 'model' | 'containerd' {
    return [...this.cris.values()].some((r) => r.kind === 'containerd') ? 'containerd' : 'model';
  }

  /** What a node's pods run on, as the status bar says it: "model" or "containerd 2.1.9". */
  runtimeOf(node: string): string {
    return this.cri(node).description;
  }

  /** Stops the loops and ends what the runtimes run themselves (the real containerd's daemons). */
  async close(): Promise<void> {
    this.stop();
    await Promise.allSettled([...this.cris.values()].map((r) => r.close()));
  }

  /** Stops the kubelet's loops (relist, GC timer); pods and sandboxes stay as they are. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    if (this.gcTimer) clearTimeout(this.gcTimer);
  }

  runtime(node: string): ContainerdNode {
    const r = this.runtimes.get(node);
    if (!r) throw new KubeletError(`no node "${node}" (nodes: ${[...this.runtimes.keys()].join(', ')})`);
    return r;
  }

  /** The node's runtime over the CRI (the model, or the real containerd). */
  cri(node: string): CriRuntime {
    const r = this.cris.get(node);
    if (!r) throw new KubeletError(`no node "${node}" (nodes: ${[...this.cris.keys()].join(', ')})`);
    return r;
  }

  /** NetworkReady as the kubelet last saw it (no plugin runs; STATUS verdicts from the last CRI Status). */
  nodeNetworkReady(node: string): RuntimeCondition {
    return this.cri(node).networkReady();
  }

  /** The CRI Status call kubelet makes every 5 s (updateRuntimeUp): go-cni Load and Status, STATUS verb included. */
  async runtimeStatus(node: string) {
    return this.cri(node).status();
  }

  /** Calls fn with every kubelet operation from now on, before its first step; returns the unsubscribe. */
  observe(fn: (op: KubeletOperation) => void): () => void {
    this.observers.add(fn);
    return () => void this.observers.delete(fn);
  }

  /** Calls fn with every garbage collection from now on, before its first step; returns the unsubscribe. */
  observeGc(fn: (op: KubeletGcOperation) => void): () => void {
    this.gcObservers.add(fn);
    return () => void this.gcObservers.delete(fn);
  }

  private announce(op: KubeletOperation | KubeletGcOperation): void {
    const fns: Set<(op: never) => void> = op.kind === 'garbageCollect' ? this.gcObservers : this.observers;
    for (const fn of fns as Set<(op: KubeletOperation | KubeletGcOperation) => void>) {
      try {
        fn(op);
      } catch {
        /* an observer never changes what the kubelet does */
      }
    }
  }

  private onWorker<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.workers.get(key) ?? Promise.resolve();
    const run = async () => {
      this.busy.add(key);
      try {
        return await fn();
      } finally {
        this.busy.delete(key);
      }
    };
    const next = prev.then(run, run);
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
      if (this.pods.has(key)) throw new KubeletError(`pod "${key}" already exists on ${this.pods.get(key)!.spec.node}`);
      const rt = this.cri(spec.node);
      // a pod whose last sync left a sandbox behind: the same pod (uid), its next attempt
      const earlier = this.failedSyncs.get(key);
      if (earlier && earlier.node === spec.node) await this.killLeftSandbox(key, earlier, trace, sync.id);
      await this.networkGate(rt, spec, step);
      const pod: Pod = {
        key,
        spec,
        uid: earlier?.node === spec.node ? earlier.uid : (spec.uid ?? randomUUID()),
        sandboxId: '',
        attempt: earlier?.node === spec.node ? earlier.attempt + 1 : 0,
        ip: '',
        additionalIps: [],
        netns: '',
        sandboxPid: 0,
        conditions: { PodReadyToStartContainers: false, Initialized: false, Ready: false },
        containers: [],
      };
      this.failedSyncs.delete(key);
      try {
        await this.createSandboxAndStart(rt, pod, trace, sync.id, () => this.pods.set(key, pod));
      } catch (e) {
        // containerd's cleanupErr left the sandbox SANDBOX_UNKNOWN: the kubelet's next sync stops it
        const left = (e as { sandboxId?: string }).sandboxId;
        if (left) this.failedSyncs.set(key, { node: spec.node, uid: pod.uid, attempt: pod.attempt, sandboxId: left });
        this.scheduleGc();
        throw e;
      }
      sync.output({ ip: pod.ip, sandboxId: pod.sandboxId });
      return pod;
    });
  }

  /**
   * computePodActions for a pod whose sandbox was left behind (not ready): KillPod of that sandbox
   * (StopPodSandbox); the next sandbox gets attempt+1. Traced under `parent`.
   */
  private async killLeftSandbox(key: string, left: FailedSync, trace: Trace, parent: number): Promise<void> {
    const rt = this.cri(left.node);
    const sbState = rt.sandboxState(left.sandboxId);
    const step = trace.under({ pod: key.split('/')[1], node: left.node, parent });
    const actions = { source: SOURCES.computePodActions, inputs: { sandboxId: left.sandboxId, attempt: left.attempt } };
    await step('kubelet', 'computePodActions', actions, async (h) =>
      h.output({
        sandboxState: sbState ?? 'gone',
        KillPod: !!sbState && !left.stopped,
        CreateSandbox: true,
        Attempt: left.attempt + 1,
        event: 'Normal SandboxChanged: Pod sandbox changed, it will be killed and re-created.',
      }),
    );
    if (!sbState || left.stopped) return;
    const kill = { source: SOURCES.killPod, inputs: { pod: key, sandboxId: left.sandboxId } };
    await step('kubelet', 'KillPod', kill, (k) => rt.stopPodSandbox(left.sandboxId, trace, k.id));
    left.stopped = true;
  }

  /**
   * The relist's sync of a pod whose creation left a sandbox (SANDBOX_UNKNOWN): it is stopped now. The real
   * kubelet then creates attempt+1 with back-off; this one waits for the pod's next syncPod.
   */
  private syncFailed(key: string, left: FailedSync, trace = new Trace()): void {
    const name = key.split('/')[1]!;
    const done = this.onWorker(key, () =>
      trace.step(
        'kubelet',
        'SyncPod',
        { pod: name, node: left.node, source: SOURCES.syncPod, inputs: { pod: key } },
        async (sync) => {
          await this.killLeftSandbox(key, left, trace, sync.id);
          sync.output({
            note: `attempt ${left.attempt + 1} is created by the pod's next syncPod (a real kubelet retries with back-off)`,
          });
          this.scheduleGc();
        },
      ),
    );
    done.catch(() => {});
    this.announce({ kind: 'syncPod', pod: key, name, node: left.node, trace, done });
  }

  /**
   * The kubelet's NetworkReady gate (kubelet.go syncPod): a pod not on the host network is refused while
   * the runtime's NetworkReady is false (event NetworkNotReady). The CRI Status runs now (with STATUS).
   */
  private async networkGate(rt: CriRuntime, spec: PodSpec, step: StepIn): Promise<void> {
    const inputs = {
      hostNetwork: spec.hostNetwork === true,
      status: 'CRI Status: go-cni Load, ready() and, for cniVersion ≥ 1.1.0 lists, the CNI STATUS verb',
      'containerd 1.7': 'no STATUS verb (containerd calls it from 2.0.1)',
    };
    await step('kubelet', 'NetworkReady gate', { source: SOURCES.nodeNotReady, inputs }, async (h) => {
      const status = await rt.status();
      const ready = status.conditions[1]!;
      h.output({ NetworkReady: ready.status, ...(ready.status ? {} : { message: ready.message }) });
      if (ready.status) return;
      if (spec.hostNetwork) {
        h.output({ note: 'a hostNetwork pod runs while the network is not ready' });
        return;
      }
      h.output({ event: `Warning NetworkNotReady: ${networkNotReadyError(ready)}` });
      throw new KubeletError(networkNotReadyError(ready));
    });
  }

  /**
   * SyncPod's creation half: GetPodDNS, RunPodSandbox (attempt pod.attempt), PodSandboxStatus, then
   * init and app containers. `register` runs once the sandbox exists (the pod is known from then on).
   */
  private async createSandboxAndStart(
    rt: CriRuntime,
    pod: Pod,
    trace: Trace,
    parent: number,
    register: () => void,
  ): Promise<void> {
    const spec = pod.spec;
    const step = trace.under({ pod: spec.name, node: spec.node, parent });
    const namespace = spec.namespace ?? 'default';
    const logDirectory = `${NODE_PATHS.podLogsDir}/${namespace}_${spec.name}_${pod.uid}`;
    await step('kubelet', 'PrepareResources', { source: SOURCES.prepareResources }, async (h) => h.output(NO_CLAIMS));
    // generatePodSandboxConfig: the pod's DNS from the node's resolv.conf (kubelet's --resolv-conf)
    const dns = await step('kubelet', 'GetPodDNS', this.podDnsSpec(spec), (h) => this.getPodDns(spec, namespace, h));
    const config: PodSandboxConfig = {
      name: spec.name,
      namespace,
      uid: pod.uid,
      attempt: pod.attempt,
      hostname: spec.name,
      ...(dns ? { dnsConfig: dns } : {}),
      logDirectory,
      annotations: spec.annotations ?? {},
      portMappings: portMappingsOf(spec),
      cgroupParent: podCgroupParent(pod.uid),
      ...(spec.hostNetwork ? { hostNetwork: true } : {}),
      ...(spec.capabilityArgs ? { labCapabilityArgs: spec.capabilityArgs } : {}),
    };
    let sandboxId: string;
    try {
      sandboxId = await rt.runPodSandbox(config, trace, parent);
    } catch (e) {
      // kubelet's createPodSandbox error, as `kubectl describe` shows it (event FailedCreatePodSandBox)
      const left = failedCleanupOf(e);
      const msg = `Failed to create pod sandbox: rpc error: code = Unknown desc = ${(e as Error).message}`;
      const err = new KubeletError(msg, { cause: e });
      if (left) Object.assign(err, { sandboxId: left.sandboxId, cleanupError: left.cleanupError });
      throw err;
    }
    const status = await rt.podSandboxStatus(sandboxId, trace, parent);
    Object.assign(pod, {
      sandboxId,
      // hostNetwork: containerd reports no IP; the kubelet uses the node's
      ip: spec.hostNetwork ? this.world.node(spec.node).underlayIp : status.network.ip,
      additionalIps: status.network.additionalIps,
      netns: status.netns,
      sandboxPid: rt.sandboxPid(sandboxId),
      conditions: { PodReadyToStartContainers: false, Initialized: false, Ready: false },
      containers: [],
    });
    // A failure from here on leaves the pod for KillPod to clean, as kubelet would before its retry.
    register();
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
      const start = { inputs: { command: c.command, ...(c.ports ? { ports: c.ports } : {}) } };
      await step('kubelet', `start container ${c.name}`, start, async (h) => {
        const ctr = await rt.startContainer(
          sandboxId,
          c.command,
          `${logDirectory}/${c.name}/${pod.attempt}.log`,
          c.name,
        );
        pod.containers.push(ctr);
        h.output({ pid: ctr.pid, containerId: ctr.id });
      });
    }
    pod.conditions.Ready = true;
  }

  /** GetPodDNS's inputs: the pod's policy and config, and the kubelet's cluster DNS settings. */
  private podDnsSpec(spec: PodSpec) {
    const inputs = {
      dnsPolicy: spec.dnsPolicy ?? 'ClusterFirst',
      ...(spec.dnsConfig ? { dnsConfig: spec.dnsConfig } : {}),
      ...(spec.hostNetwork ? { hostNetwork: true } : {}),
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
      ...(spec.hostNetwork ? { hostNetwork: true } : {}),
    };
    const resolvConf = nodeFile(this.world, spec.node, 'resolvConf');
    const r = podDnsConfig(pod, this.dns, resolvConf.files.readFile(resolvConf.rel));
    h.output({
      dnsConfig: r.config,
      ...(r.warnings.length ? { events: r.warnings.map((w) => `Warning DNSConfigForming: ${w}`) } : {}),
    });
    return r.config;
  }

  private async runInit(rt: CriRuntime, pod: Pod, c: ContainerSpec, logDirectory: string, h: StepHandle) {
    const ctr = await rt.startContainer(
      pod.sandboxId,
      c.command,
      `${logDirectory}/${c.name}/${pod.attempt}.log`,
      c.name,
    );
    const s = await ctr.exited;
    h.output({ exitCode: s.code });
    if (s.code !== 0)
      throw new KubeletError(
        `init container ${c.name} of pod ${pod.key} failed with exit code ${s.code ?? `signal ${s.signal}`}`,
      );
  }

  /**
   * killPodWithSyncResult: each container through CRI StopContainer (concurrently), then StopPodSandbox.
   * Removing the sandbox and the pod's logs is the garbage collection's, later.
   */
  private async killPodSteps(pod: Pod, trace: Trace, parent: number, opts: KillPodOptions = {}): Promise<void> {
    const rt = this.cri(pod.spec.node);
    const step = trace.under({ pod: pod.spec.name, node: pod.spec.node, parent });
    if (opts.before) await opts.before(step);
    const grace = opts.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS;
    const inputs = {
      containers: pod.containers.map((c) => c.name),
      gracePeriodSeconds: grace,
      ...(opts.gracePeriodSeconds === undefined ? { note: "Kubernetes' default: 30 s (this lab's: 2 s)" } : {}),
    };
    await step('kubelet', 'kill containers', { source: SOURCES.killContainers, inputs }, async (h) => {
      const outcomes = await Promise.all(
        pod.containers.map((c) =>
          step(
            'kubelet',
            `killContainer ${c.name}`,
            { inputs: { containerId: c.id, gracePeriodSeconds: grace } },
            (k) => this.killContainer(rt, pod, c, grace, trace, k, opts),
          ),
        ),
      );
      h.output({ outcomes });
    });
    await rt.stopPodSandbox(pod.sandboxId, trace, parent);
  }

  /**
   * killContainer: the Killing event, the preStop hook (for at most the grace period; its whole seconds come
   * out of it, leaving at least 2 s), then CRI StopContainer with what is left of the grace period.
   */
  private async killContainer(
    rt: CriRuntime,
    pod: Pod,
    c: RunningContainer,
    grace: number,
    trace: Trace,
    k: StepHandle,
    opts: KillPodOptions,
  ): Promise<string> {
    const spec = pod.spec.containers?.find((s) => s.name === c.name);
    opts.onEvent?.({ type: 'Normal', reason: 'Killing', message: `Stopping container ${c.name}`, container: c.name });
    k.output({ event: `Normal Killing: Stopping container ${c.name}` });
    let left = grace;
    if (spec?.preStop && grace > 0) {
      const hook = spec.preStop;
      const inputs = hook.exec
        ? { exec: hook.exec.command }
        : hook.httpGet
          ? { httpGet: hook.httpGet }
          : { sleep: hook.sleep };
      const step = trace.under({ pod: pod.spec.name, node: pod.spec.node, parent: k.id });
      const started = performance.now();
      await step('kubelet', `preStop hook ${c.name}`, { source: SOURCES.killContainers, inputs }, async (h) => {
        const run = this.runHandler(rt, pod, c, hook).then(
          (r) => r,
          (e: Error) => ({ ok: false, message: e.message }),
        );
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), grace * 1000)));
        const r = await Promise.race([run, timeout]);
        clearTimeout(timer);
        if (r === 'timeout') return h.output({ outcome: `did not complete in ${grace} s: the stop signal follows` });
        h.output({ outcome: r.ok ? 'completed' : `failed: ${r.message}` });
        // the kubelet leaves the hook's message out of the event, so that secrets do not leak
        if (!r.ok)
          opts.onEvent?.({
            type: 'Warning',
            reason: 'FailedPreStopHook',
            message: 'PreStopHook failed',
            container: c.name,
          });
      });
      left = grace - Math.floor((performance.now() - started) / 1000);
    }
    // always give containers a minimal shutdown window to avoid unnecessary SIGKILLs (kubelet's words)
    const stopWith = Math.max(left, MINIMUM_GRACE_SECONDS);
    k.output({ stopTimeoutSeconds: stopWith });
    return rt.stopContainer(c.id, stopWith, trace, k.id);
  }

  /** A lifecycle handler: exec through CRI ExecSync (no timeout), httpGet from the node to the pod's IP. */
  private async runHandler(
    rt: CriRuntime,
    pod: Pod,
    c: RunningContainer,
    hook: LifecycleHandler,
  ): Promise<{ ok: boolean; message: string }> {
    if (hook.exec) {
      const r = await rt.execSync(c.id, hook.exec.command, 0);
      const out = (r.stdout + r.stderr).trim();
      return r.exitCode === 0
        ? { ok: true, message: out }
        : { ok: false, message: `command '${hook.exec.command.join(' ')}' exited with ${r.exitCode}: ${out}` };
    }
    if (hook.httpGet) {
      const g = hook.httpGet;
      const r = await httpGet(this.world, pod.spec.node, {
        host: g.host || pod.ip,
        port: g.port,
        ...(g.path ? { path: g.path } : {}),
        ...(g.httpHeaders ? { headers: g.httpHeaders } : {}),
        timeoutSeconds: Math.max(pod.spec.terminationGracePeriodSeconds ?? DEFAULT_GRACE_SECONDS, 1),
      });
      return r;
    }
    if (hook.sleep) {
      await goSleep(hook.sleep.seconds * 1000);
      return { ok: true, message: '' };
    }
    return { ok: false, message: 'a lifecycle handler names exec, httpGet or sleep' };
  }

  /**
   * KillPod: containers (CRI StopContainer), then StopPodSandbox. A failure leaves the pod Terminating;
   * the kubelet retries KillPod on its relist until it succeeds. The sandbox is removed later, by GC.
   */
  killPod(name: string, namespace = 'default', trace = new Trace(), opts: KillPodOptions = {}): Promise<void> {
    const key = Kubelet.key({ name, namespace });
    const done = this.onWorker(key, () => this.doKillPod(key, trace, opts));
    this.announce({ kind: 'killPod', pod: key, name, node: this.pods.get(key)?.spec.node ?? '', trace, done });
    return done;
  }

  private async doKillPod(key: string, trace: Trace, opts: KillPodOptions = {}): Promise<void> {
    const pod = this.pods.get(key);
    if (!pod) throw new KubeletError(`no pod "${key}"`);
    pod.terminating = true;
    const o = { pod: pod.spec.name, node: pod.spec.node };
    const inputs = { pod: key, sandboxId: pod.sandboxId };
    await trace.step('kubelet', 'KillPod', { ...o, source: SOURCES.killPod, inputs }, async (kill) => {
      try {
        await this.killPodSteps(pod, trace, kill.id, opts);
      } catch (e) {
        kill.output({ pod: 'Terminating: the kubelet retries KillPod' });
        throw e;
      }
      this.pods.delete(key);
      kill.output({
        next: `garbage collection removes the sandbox and the pod's logs${this.gcDelayMs ? ` in ${this.gcDelayMs} ms` : ''}`,
      });
    });
    this.scheduleGc();
  }

  private scheduleGc(): void {
    if (this.gcDelayMs <= 0 || this.stopped || this.gcTimer) return;
    this.gcTimer = setTimeout(() => {
      this.gcTimer = undefined;
      void this.garbageCollect().catch(() => {});
    }, this.gcDelayMs).unref();
  }

  /**
   * The kubelet's garbage collection (kuberuntime_gc.go): evictSandboxes — RemovePodSandbox of every
   * sandbox that is not ready and is not the current one of a live pod — then evictPodLogsDirectories —
   * the log folders of pods that are gone.
   */
  garbageCollect(trace = new Trace()): Promise<void> {
    const done = this.onWorker('(gc)', () =>
      trace.step('kubelet', 'GarbageCollect', { source: SOURCES.garbageCollect }, async (gc) => {
        const step = trace.under({ parent: gc.id });
        // the current sandbox of each pod, and those the kubelet's next sync is still to stop
        const current = new Set([
          ...[...this.pods.values()].map((p) => p.sandboxId),
          ...[...this.failedSyncs.values()].filter((f) => !f.stopped).map((f) => f.sandboxId),
        ]);
        const dead = [...this.cris.values()].flatMap((rt) =>
          rt
            .listPodSandbox()
            .filter((sb) => sb.state !== 'SANDBOX_READY' && !current.has(sb.id))
            .map((sb) => ({ rt, sb })),
        );
        const inputs = { sandboxes: dead.map(({ sb }) => `${sb.config.name} attempt ${sb.config.attempt ?? 0}`) };
        await step('kubelet', 'evictSandboxes', { inputs }, async (h) => {
          const failures: string[] = [];
          for (const { rt, sb } of dead)
            await rt.removePodSandbox(sb.id, trace, h.id).catch((e: Error) => failures.push(e.message));
          if (failures.length) throw new KubeletError(failures.join('; '));
        });
        await step('kubelet', 'evictPodLogsDirectories', { inputs: { dir: NODE_PATHS.podLogsDir } }, async (h) => {
          const live = new Set(
            [...this.pods.values()].map((p) => `${p.spec.namespace ?? 'default'}_${p.spec.name}_${p.uid}`),
          );
          const removed: string[] = [];
          for (const node of this.runtimes.keys()) {
            const logs = nodeFolder(this.world, node, 'podLogsDir');
            for (const d of logs.readdirIfExists()) {
              if (live.has(d)) continue;
              logs.rm(d);
              removed.push(`${node}:${NODE_PATHS.podLogsDir}/${d}`);
            }
          }
          h.output({ removed });
        });
      }),
    );
    this.announce({ kind: 'garbageCollect', trace, done });
    return done;
  }

  /** The exit event of a pause: the pod's worker syncs it now (the relist would find it too). */
  private onSandboxExit(sb: Pick<PodSandbox, 'id'>): void {
    const pod = [...this.pods.values()].find((p) => p.sandboxId === sb.id);
    if (pod && !pod.terminating) this.resync(pod);
  }

  /** The PLEG-like relist: pods whose sandbox is no longer ready are synced; Terminating pods are killed again. */
  private relist(): void {
    if (this.stopped) return;
    if (!this.world.alive) return this.stop();
    for (const pod of this.pods.values()) {
      if (this.busy.has(pod.key) || this.workers.has(pod.key)) continue;
      if (pod.terminating) {
        void this.killPod(pod.spec.name, pod.spec.namespace ?? 'default').catch(() => {});
        continue;
      }
      const state = this.cris.get(pod.spec.node)?.sandboxState(pod.sandboxId);
      if (state && state !== 'SANDBOX_READY') this.resync(pod);
    }
    for (const [key, left] of this.failedSyncs)
      if (!left.stopped && !this.workers.has(key) && !this.pods.has(key)) this.syncFailed(key, left);
  }

  /**
   * SyncPod of a running pod (computePodActions): its sandbox changed (not ready) → event SandboxChanged,
   * kill the pod (containers + StopPodSandbox), then a new sandbox with attempt+1 and the containers again.
   */
  private resync(pod: Pod, trace = new Trace()): void {
    if (this.stopped || this.workers.has(pod.key)) return;
    const done = this.onWorker(pod.key, async () => {
      const rt = this.cri(pod.spec.node);
      const state = rt.sandboxState(pod.sandboxId);
      if (this.pods.get(pod.key) !== pod || pod.terminating || state === 'SANDBOX_READY') return pod;
      const place = { pod: pod.spec.name, node: pod.spec.node };
      const syncPod = { ...place, source: SOURCES.syncPod, inputs: { pod: pod.key, node: pod.spec.node } };
      return trace.step('kubelet', 'SyncPod', syncPod, async (sync) => {
        const step = trace.under({ ...place, parent: sync.id });
        const actions = {
          source: SOURCES.computePodActions,
          inputs: { sandboxId: pod.sandboxId, attempt: pod.attempt },
        };
        await step('kubelet', 'computePodActions', actions, async (h) =>
          h.output({
            sandboxState: state ?? 'gone',
            KillPod: true,
            CreateSandbox: true,
            Attempt: pod.attempt + 1,
            event: 'Normal SandboxChanged: Pod sandbox changed, it will be killed and re-created.',
          }),
        );
        const kill = { source: SOURCES.killPod, inputs: { pod: pod.key, sandboxId: pod.sandboxId } };
        await step('kubelet', 'KillPod', kill, (k) => this.killPodSteps(pod, trace, k.id));
        const before = pod.ip;
        pod.conditions = { PodReadyToStartContainers: false, Initialized: false, Ready: false };
        pod.containers = [];
        await this.networkGate(rt, pod.spec, step);
        // the attempt counts sandboxes the kubelet asks for
        pod.attempt += 1;
        await this.createSandboxAndStart(rt, pod, trace, sync.id, () => {});
        sync.output({ attempt: pod.attempt, ip: pod.ip, previousIp: before, sandboxId: pod.sandboxId });
        this.scheduleGc();
        return pod;
      });
    });
    done.catch(() => {});
    this.announce({ kind: 'syncPod', pod: pod.key, name: pod.spec.name, node: pod.spec.node, trace, done });
  }

  /** Resolves once no pod worker is busy (tests and labs wait for the kubelet's own syncs). */
  async idle(): Promise<void> {
    while (this.workers.size) await Promise.allSettled([...this.workers.values()]);
  }

  /** Kills every pod (concurrently, one worker per pod). */
  async killAll(): Promise<void> {
    await Promise.allSettled(
      [...this.pods.values()].map((p) => this.killPod(p.spec.name, p.spec.namespace ?? 'default')),
    );
  }
}

/** CRI port mappings from the containers' ports with a hostPort (kubelet's makePortMappings; protocol lower-cased by containerd). */
function portMappingsOf(spec: PodSpec): PortMapping[] {
  return (spec.containers ?? []).flatMap((c) =>
    (c.ports ?? [])
      .filter((p) => (p.hostPort ?? 0) > 0)
      .map((p) => ({
        hostPort: p.hostPort!,
        containerPort: p.containerPort,
        protocol: (p.protocol ?? 'TCP').toLowerCase(),
        hostIP: p.hostIP ?? '',
      })),
  );
}
