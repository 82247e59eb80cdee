// The kubelet, driven by the API: it watches the pods bound to the world's nodes, runs SyncPod for a
// new one (CRI → CNI, as the engine's kubelet always did) and PATCHes its status — phase, conditions,
// podIP/podIPs, hostIP, container statuses — as its status manager does. Readiness comes from the
// readiness probes (probes.ts). On a pod's deletionTimestamp it runs syncTerminatingPod: the status,
// then KillPod (Killing, preStop, the stop signal, SIGKILL at the end of grace, StopPodSandbox), the
// final status, and the delete for good (grace 0). A sandbox the kubelet rebuilt is reported too.
import type { ContainerSpec, Kubelet, KubeletOperation, LifecycleHandler, Pod } from '../runtime/kubelet.js';
import type { RunningContainer } from '../runtime/cri-runtime.js';
import { Trace, type StepIn } from '../runtime/trace.js';
import type { World } from '../world/world.js';
import type { ApiClient } from './cluster.js';
import { recordEvent } from './events.js';
import { startKubeletServers } from './kubelet-server.js';
import { probePort, ReadinessWorker, type Probe } from './probes.js';
import type { KubeObject } from './resources.js';

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const MERGE = 'application/merge-patch+json';

type ApiContainer = Record<string, unknown> & {
  name: string;
  command?: string[];
  args?: string[];
  env?: { name: string; value?: string }[];
  ports?: { name?: string; containerPort: number; hostPort?: number; protocol?: string }[];
  readinessProbe?: Probe;
  lifecycle?: { preStop?: LifecycleHandler & { httpGet?: { port: number | string } } };
};

/** A container as the lab runs it: its command and args (the image is not pulled), else busybox httpd on :80. */
function containerOf(c: ApiContainer): ContainerSpec {
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  const env = (c.env ?? []).map((e) => `${e.name}=${e.value ?? ''}`);
  const command = argv.length ? argv : ['httpd', '-f', '-p', '80'];
  const preStop = c.lifecycle?.preStop;
  return {
    name: c.name,
    // the container's environment, as the runtime sets it (env before the command)
    command: env.length ? ['env', ...env, ...command] : command,
    ...(c.ports?.some((p) => p.hostPort)
      ? {
          ports: c.ports.map((p) => ({
            containerPort: p.containerPort,
            ...(p.hostPort ? { hostPort: p.hostPort } : {}),
            ...(p.protocol ? { protocol: p.protocol as 'TCP' } : {}),
          })),
        }
      : {}),
    ...(preStop
      ? {
          preStop: preStop.httpGet
            ? { httpGet: { ...preStop.httpGet, port: probePort(preStop.httpGet.port, c.ports) } }
            : preStop,
        }
      : {}),
  };
}

const imageOf = (c: ApiContainer | undefined) => (typeof c?.image === 'string' ? c.image : '');

/** What the kubelet knows of a pod it runs: the API object, the runtime's pod, readiness, conditions. */
interface Tracked {
  api: KubeObject;
  pod: Pod;
  workers: ReadinessWorker[];
  /** Each container's readiness (a container without a readiness probe is ready once it runs). */
  ready: Map<string, boolean>;
  /** Each condition's status and since when (lastTransitionTime moves only when the status does). */
  since: Map<string, { status: string; at: string }>;
  startTime: string;
  startedAt: Map<string, string>;
  /** Containers that stopped: their exit codes, once KillPod ran. */
  terminated?: Map<string, { exitCode: number; finishedAt: string }>;
  /** The status PATCHes, one after the other. */
  patches: Promise<unknown>;
  /** Repeated events by message: the one to count them in. */
  repeats: Repeats;
}

/** Events already recorded, by reason and message: the one a repeat adds its count to. */
type Repeats = Map<string, { name: string; count: number; first: number }>;

/** A pod whose SyncPod failed: its repeated events, its first sync's time, and the retry due. */
interface Failing {
  repeats: Repeats;
  startTime: string;
  retry?: NodeJS.Timeout;
}

function statusOf(t: Tracked, hostIP: string): Record<string, unknown> {
  const containers = (t.api.spec?.containers ?? []) as ApiContainer[];
  const allReady = !t.terminated && t.pod.containers.length > 0 && t.pod.containers.every((c) => t.ready.get(c.name));
  const unready = t.pod.containers.filter((c) => t.terminated || !t.ready.get(c.name)).map((c) => c.name);
  const cond = (type: string, ok: boolean, why?: { reason: string; message: string }) => {
    const status = ok ? 'True' : 'False';
    const prev = t.since.get(type);
    const at = prev && prev.status === status ? prev.at : now();
    t.since.set(type, { status, at });
    return { type, status, lastProbeTime: null, lastTransitionTime: at, ...(!ok && why ? why : {}) };
  };
  const notReady = { reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
  // a deleted pod ends in a terminal phase before it goes (Succeeded if every container exited 0)
  const phase = t.terminated
    ? [...t.terminated.values()].every((x) => x.exitCode === 0)
      ? 'Succeeded'
      : 'Failed'
    : 'Running';
  return {
    phase,
    conditions: [
      cond('PodReadyToStartContainers', t.pod.conditions.PodReadyToStartContainers && !t.terminated),
      cond('Initialized', t.pod.conditions.Initialized),
      cond('Ready', allReady, notReady),
      cond('ContainersReady', allReady, notReady),
      cond('PodScheduled', true),
    ],
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP: t.pod.ip,
    podIPs: [{ ip: t.pod.ip }, ...t.pod.additionalIps.map((ip) => ({ ip }))],
    startTime: t.startTime,
    qosClass: 'BestEffort',
    containerStatuses: t.pod.containers.map((c) => {
      const end = t.terminated?.get(c.name);
      const startedAt = t.startedAt.get(c.name) ?? t.startTime;
      return {
        name: c.name,
        ready: !end && (t.ready.get(c.name) ?? false),
        started: !end,
        restartCount: 0,
        image: imageOf(containers.find((x) => x.name === c.name)),
        imageID: '',
        containerID: `containerd://${c.id}`,
        state: end
          ? {
              terminated: {
                exitCode: end.exitCode,
                reason: end.exitCode === 0 ? 'Completed' : 'Error',
                startedAt,
                finishedAt: end.finishedAt,
                containerID: `containerd://${c.id}`,
              },
            }
          : { running: { startedAt } },
      };
    }),
  };
}

/** pod_workers.go: the back-off after a failed sync (kubelet's backOffPeriod), and after the network gate's. */
const SYNC_BACKOFF_MS = 10_000;
const NETWORK_NOT_READY_BACKOFF_MS = 1000;
/** wait.Jitter's factor for both (workerBackOffPeriodJitterFactor): up to half as long again. */
const BACKOFF_JITTER = 0.5;
/** The watch event type the back-off's timer hands to the pod worker. */
const RETRY = 'RETRY';

/** A pod SyncPod could not start, as the kubelet's status says it: Pending, each container ContainerCreating. */
function pendingStatus(containers: ApiContainer[], hostIP: string, startTime: string): Record<string, unknown> {
  const t = now();
  const unready = `containers with unready status: [${containers.map((c) => c.name).join(' ')}]`;
  const cond = (type: string, status: boolean, reason?: string) => ({
    type,
    status: status ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: t,
    ...(reason ? { reason, message: unready } : {}),
  });
  return {
    phase: 'Pending',
    conditions: [
      cond('PodReadyToStartContainers', false),
      cond('Initialized', true),
      cond('Ready', false, 'ContainersNotReady'),
      cond('ContainersReady', false, 'ContainersNotReady'),
      cond('PodScheduled', true),
    ],
    hostIP,
    hostIPs: [{ ip: hostIP }],
    startTime,
    qosClass: 'BestEffort',
    containerStatuses: containers.map((c) => ({
      name: c.name,
      ready: false,
      started: false,
      restartCount: 0,
      image: imageOf(c),
      imageID: '',
      state: { waiting: { reason: 'ContainerCreating' } },
    })),
  };
}

/** A container's exit code as the runtime reports it (128 + the signal when a signal ended it). */
async function exitCodeOf(c: RunningContainer): Promise<number> {
  const timeout = new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000).unref());
  const s = await Promise.race([c.exited, timeout]);
  if (!s) return 137;
  if (s.code !== null) return s.code;
  const signals: Record<string, number> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2 };
  return 128 + (typeof s.signal === 'number' ? s.signal : (signals[String(s.signal)] ?? 9));
}

export function startPodSync(cluster: ApiClient, world: World, kubelet: Kubelet): () => void {
  const working = new Set<string>();
  const tracked = new Map<string, Tracked>();
  /** The last event that came while its pod was being worked on: handled once the work ends. */
  const missed = new Map<string, [string, KubeObject]>();
  const failing = new Map<string, Failing>();
  const stopServers = startKubeletServers(world, kubelet);

  const podPath = (api: KubeObject) =>
    `/api/v1/namespaces/${api.metadata?.namespace ?? 'default'}/pods/${api.metadata!.name}`;
  const from = (node: string) => ({ component: 'kubelet', host: node });

  /** The status manager: the pod's status as it is now, PATCHed after the ones before it. */
  const setStatus = (t: Tracked): Promise<unknown> => {
    const status = statusOf(t, world.node(t.pod.spec.node).underlayIp);
    t.patches = t.patches
      .catch(() => {})
      .then(() => cluster.call('PATCH', `${podPath(t.api)}/status`, { status }, MERGE));
    return t.patches;
  };

  /**
   * An event as client-go's recorder aggregates a repeat (same reason and message, within 10 minutes): the
   * first is created, the next ones PATCH its count and lastTimestamp (describe: "x3 over 5s").
   */
  const repeatEvent = (repeats: Repeats, api: KubeObject, node: string, reason: string, message: string) => {
    const seen = repeats.get(`${reason}\n${message}`);
    const at = new Date();
    if (!seen || at.getTime() - seen.first > 600_000) {
      const name = recordEvent(cluster, api, 'Warning', reason, message, from(node));
      repeats.set(`${reason}\n${message}`, { name, count: 1, first: at.getTime() });
      return;
    }
    seen.count += 1;
    const ns = api.metadata?.namespace ?? 'default';
    const patch = { count: seen.count, lastTimestamp: at.toISOString().replace(/\.\d+Z$/, 'Z') };
    void cluster.call('PATCH', `/api/v1/namespaces/${ns}/events/${seen.name}`, patch, MERGE).catch(() => {});
  };
  const unhealthy = (t: Tracked, message: string) =>
    repeatEvent(t.repeats, t.api, t.pod.spec.node, 'Unhealthy', message);

  /** The readiness workers of a pod's containers (prober manager AddPod). */
  const startProbes = (t: Tracked) => {
    for (const w of t.workers) w.stop();
    t.workers = [];
    const specs = (t.api.spec?.containers ?? []) as ApiContainer[];
    for (const c of t.pod.containers) {
      const spec = specs.find((s) => s.name === c.name);
      t.startedAt.set(c.name, now());
      if (!spec?.readinessProbe) {
        t.ready.set(c.name, true);
        continue;
      }
      t.ready.set(c.name, false);
      const w = new ReadinessWorker(
        kubelet,
        t.pod,
        c,
        spec.readinessProbe,
        spec.ports ?? [],
        (ready) => {
          t.ready.set(c.name, ready);
          void setStatus(t).catch(() => {});
        },
        (message) => unhealthy(t, `Readiness probe failed: ${message}`),
      );
      t.workers.push(w);
    }
    for (const w of t.workers) w.start();
  };

  const sync = async (api: KubeObject, node: string, key: string) => {
    const name = api.metadata!.name!;
    const ns = api.metadata!.namespace ?? 'default';
    const containers = (api.spec?.containers ?? []) as ApiContainer[];
    try {
      const pod = await kubelet.syncPod({
        name,
        namespace: ns,
        node,
        ...(typeof api.metadata?.uid === 'string' ? { uid: api.metadata.uid } : {}),
        containers: containers.map(containerOf),
        ...(Array.isArray(api.spec?.initContainers)
          ? { initContainers: (api.spec.initContainers as ApiContainer[]).map(containerOf) }
          : {}),
        ...(api.spec?.hostNetwork ? { hostNetwork: true } : {}),
        ...(typeof api.spec?.terminationGracePeriodSeconds === 'number'
          ? { terminationGracePeriodSeconds: api.spec.terminationGracePeriodSeconds }
          : {}),
        ...(api.metadata?.annotations ? { annotations: api.metadata.annotations as Record<string, string> } : {}),
      });
      for (const c of pod.containers) {
        recordEvent(cluster, api, 'Normal', 'Created', `Created container: ${c.name}`, from(node));
        recordEvent(cluster, api, 'Normal', 'Started', `Started container ${c.name}`, from(node));
      }
      const t: Tracked = {
        api,
        pod,
        workers: [],
        ready: new Map(),
        since: new Map(),
        startTime: failing.get(key)?.startTime ?? now(),
        startedAt: new Map(),
        patches: Promise.resolve(),
        repeats: new Map(),
      };
      tracked.set(key, t);
      clearTimeout(failing.get(key)?.retry);
      failing.delete(key);
      startProbes(t);
      await setStatus(t);
    } catch (e) {
      const error = (e as Error).message;
      const f: Failing = failing.get(key) ?? { repeats: new Map(), startTime: now() };
      failing.set(key, f);
      // the status SyncPod writes first (generateAPIPodStatus): Pending, its containers waiting in ContainerCreating
      const status = pendingStatus(containers, world.node(node).underlayIp, f.startTime);
      await cluster.call('PATCH', `${podPath(api)}/status`, { status }, MERGE).catch(() => {});
      // kubelet.go's SyncPod: the network gate's own event, else the sandbox's (kuberuntime_manager.go)
      const notReady = error.startsWith('network is not ready:');
      if (notReady) repeatEvent(f.repeats, api, node, 'NetworkNotReady', error);
      else {
        // the kubelet's own error says it already (kuberuntime_sandbox.go: "Failed to create pod sandbox: rpc error: …")
        const message = error.startsWith('Failed to create pod sandbox:')
          ? error
          : `Failed to create pod sandbox: ${error}`;
        repeatEvent(f.repeats, api, node, 'FailedCreatePodSandBox', message);
      }
      // pod_workers.go completeWork: the pod is synced again after a back-off, the network gate's sooner
      const base = notReady ? NETWORK_NOT_READY_BACKOFF_MS : SYNC_BACKOFF_MS;
      clearTimeout(f.retry);
      f.retry = setTimeout(() => void retry(api, key), base * (1 + Math.random() * BACKOFF_JITTER));
      f.retry.unref();
    }
  };

  /** A pod whose SyncPod failed, synced again unless it was deleted or runs by now. */
  const retry = async (api: KubeObject, key: string) => {
    const fresh = await cluster.call('GET', podPath(api)).catch(() => undefined);
    if (!failing.has(key) || !fresh || fresh.metadata?.deletionTimestamp || kubelet.pods.has(key)) return;
    run(RETRY, fresh);
  };

  /**
   * syncTerminatingPod: the pod's status first (readiness as the probes say: they keep running while the
   * pod terminates), then KillPod with the deletion's grace period, then the final status and the delete.
   */
  const terminate = async (api: KubeObject, node: string, key: string, deleted: boolean) => {
    const t = tracked.get(key);
    const known = kubelet.pods.get(key);
    const trace = new Trace();
    const grace = api.metadata?.deletionGracePeriodSeconds;
    if (known) {
      if (t) t.api = { ...t.api, metadata: { ...t.api.metadata, ...api.metadata } };
      const about = t?.api ?? api;
      await kubelet.killPod(api.metadata!.name!, api.metadata!.namespace ?? 'default', trace, {
        ...(typeof grace === 'number' ? { gracePeriodSeconds: grace } : deleted ? { gracePeriodSeconds: 0 } : {}),
        onEvent: (e) => recordEvent(cluster, about, e.type, e.reason, e.message, from(node)),
        before: async (step: StepIn) => {
          if (!t || deleted) return;
          await step('kubelet', 'SetPodStatus (terminating)', { inputs: { pod: key } }, async (h) => {
            await setStatus(t);
            h.output({ Ready: t.since.get('Ready')?.status, deletionTimestamp: api.metadata?.deletionTimestamp });
          });
        },
      });
    }
    const step = trace.under({ pod: api.metadata!.name!, node });
    if (t) {
      for (const w of t.workers) w.stop();
      const codes = await Promise.all(t.pod.containers.map(exitCodeOf));
      t.terminated = new Map(t.pod.containers.map((c, i) => [c.name, { exitCode: codes[i]!, finishedAt: now() }]));
      if (!deleted)
        await step('kubelet', 'SetPodStatus (terminated)', { inputs: { pod: key } }, async (h) => {
          await setStatus(t).catch(() => {});
          h.output({ exitCodes: Object.fromEntries(t.terminated!.entries()) });
        });
    }
    tracked.delete(key);
    // the status manager deletes the pod for good once its containers and sandbox are gone
    if (!deleted)
      await step('kubelet', 'DELETE pod (grace 0)', { inputs: { path: podPath(api) } }, () =>
        cluster.call('DELETE', `${podPath(api)}?gracePeriodSeconds=0`).catch(() => {}),
      );
  };

  const handle = async (type: string, api: KubeObject) => {
    const name = api.metadata!.name!;
    const ns = api.metadata!.namespace ?? 'default';
    const node = api.spec?.nodeName;
    const key = `${ns}/${name}`;
    if (typeof node !== 'string' || !world.nodes.has(node)) return;
    if (working.has(key)) {
      missed.set(key, [type, api]);
      return;
    }
    working.add(key);
    try {
      if (type === 'DELETED' || api.metadata?.deletionTimestamp) {
        clearTimeout(failing.get(key)?.retry);
        failing.delete(key);
        await terminate(api, node, key, type === 'DELETED');
      }
      // a failed pod waits for its back-off: the kubelet acts on spec changes, not on its own status writes
      else if (!kubelet.pods.has(key) && (type === RETRY || !failing.has(key))) await sync(api, node, key);
    } finally {
      working.delete(key);
    }
  };

  const run = (type: string, api: KubeObject): void => {
    const key = `${api.metadata?.namespace ?? 'default'}/${api.metadata?.name}`;
    void handle(type, api)
      .catch(() => {})
      .then(() => {
        const next = missed.get(key);
        if (next && !working.has(key)) {
          missed.delete(key);
          run(...next);
        }
      });
  };

  /**
   * The kubelet's own sync of a running pod: its sandbox died and is being rebuilt (computePodActions).
   * SandboxChanged, the containers not ready at once; then new probes and the new IP, reported.
   */
  const onOperation = (op: KubeletOperation) => {
    if (op.kind !== 'syncPod' || working.has(op.pod)) return;
    const t = tracked.get(op.pod);
    if (!t || t.terminated) return;
    const node = t.pod.spec.node;
    const before = t.pod.sandboxId;
    recordEvent(
      cluster,
      t.api,
      'Normal',
      'SandboxChanged',
      'Pod sandbox changed, it will be killed and re-created.',
      from(node),
    );
    for (const w of t.workers) w.stop();
    for (const c of t.pod.containers) t.ready.set(c.name, false);
    void setStatus(t).catch(() => {});
    void op.done.then(
      () => {
        if (tracked.get(op.pod) !== t || t.pod.sandboxId === before || t.terminated) return;
        for (const c of t.pod.containers) {
          recordEvent(cluster, t.api, 'Normal', 'Created', `Created container: ${c.name}`, from(node));
          recordEvent(cluster, t.api, 'Normal', 'Started', `Started container ${c.name}`, from(node));
        }
        startProbes(t);
        void setStatus(t).catch(() => {});
      },
      () => {},
    );
  };
  const unobserve = kubelet.observe(onOperation);
  const unwatch = cluster.watch('/api/v1/pods', run);
  return () => {
    unwatch();
    unobserve();
    stopServers();
    for (const t of tracked.values()) for (const w of t.workers) w.stop();
    for (const f of failing.values()) clearTimeout(f.retry);
  };
}
