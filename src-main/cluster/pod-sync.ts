// The kubelet, driven by the API: it watches the pods bound to the world's nodes, runs SyncPod for a
// new one (CRI → CNI, as the engine's kubelet always did), then PATCHes its status — phase, conditions,
// podIP/podIPs, hostIP, container statuses — and on a pod's deletionTimestamp runs KillPod, then deletes
// it for good (grace 0), as the real kubelet's status manager does.
import type { ContainerSpec, Kubelet, Pod } from '../runtime/kubelet.js';
import type { World } from '../world/world.js';
import type { ApiClient } from './cluster.js';
import { recordEvent } from './events.js';
import type { KubeObject } from './resources.js';

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

/** A container as the lab runs it: its command and args (the image is not pulled), else busybox httpd on :80. */
function containerOf(c: Record<string, unknown>): ContainerSpec {
  const argv = [...((c.command as string[] | undefined) ?? []), ...((c.args as string[] | undefined) ?? [])];
  return { name: String(c.name), command: argv.length ? argv : ['httpd', '-f', '-p', '80'] };
}

const imageOf = (c: Record<string, unknown> | undefined) => (typeof c?.image === 'string' ? c.image : '');

function statusOf(pod: Pod, api: KubeObject, hostIP: string): Record<string, unknown> {
  const t = now();
  const cond = (type: string, ok: boolean) => ({
    type,
    status: ok ? 'True' : 'False',
    lastProbeTime: null,
    lastTransitionTime: t,
  });
  const containers = (api.spec?.containers ?? []) as Record<string, unknown>[];
  return {
    phase: 'Running',
    conditions: [
      cond('PodReadyToStartContainers', pod.conditions.PodReadyToStartContainers),
      cond('Initialized', pod.conditions.Initialized),
      cond('Ready', pod.conditions.Ready),
      cond('ContainersReady', pod.conditions.Ready),
      cond('PodScheduled', true),
    ],
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP: pod.ip,
    podIPs: [{ ip: pod.ip }, ...pod.additionalIps.map((ip) => ({ ip }))],
    startTime: t,
    qosClass: 'BestEffort',
    containerStatuses: pod.containers.map((c) => ({
      name: c.name,
      ready: true,
      started: true,
      restartCount: 0,
      image: imageOf(containers.find((x) => x.name === c.name)),
      imageID: '',
      containerID: `containerd://${c.id}`,
      state: { running: { startedAt: t } },
    })),
  };
}

export function startPodSync(cluster: ApiClient, world: World, kubelet: Kubelet): () => void {
  const working = new Set<string>();
  /** The last event that came while its pod was being worked on: handled once the work ends. */
  const missed = new Map<string, [string, KubeObject]>();
  const merge = 'application/merge-patch+json';
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
    const path = `/api/v1/namespaces/${ns}/pods/${name}`;
    const known = kubelet.pods.get(key);
    if (type === 'DELETED' || api.metadata?.deletionTimestamp) {
      working.add(key);
      try {
        if (known) {
          for (const c of known.containers)
            recordEvent(cluster, api, 'Normal', 'Killing', `Stopping container ${c.name}`, {
              component: 'kubelet',
              host: node,
            });
          await kubelet.killPod(name, ns);
        }
        if (type !== 'DELETED') await cluster.call('DELETE', `${path}?gracePeriodSeconds=0`).catch(() => {});
      } finally {
        working.delete(key);
      }
      return;
    }
    if (known) return;
    working.add(key);
    try {
      const pod = await kubelet.syncPod({
        name,
        namespace: ns,
        node,
        containers: ((api.spec?.containers ?? []) as Record<string, unknown>[]).map(containerOf),
        ...(api.spec?.hostNetwork ? { hostNetwork: true } : {}),
        ...(typeof api.spec?.terminationGracePeriodSeconds === 'number'
          ? { terminationGracePeriodSeconds: api.spec.terminationGracePeriodSeconds }
          : {}),
        ...(api.metadata?.annotations ? { annotations: api.metadata.annotations as Record<string, string> } : {}),
      });
      const kubeletOn = { component: 'kubelet', host: node };
      for (const c of pod.containers) {
        recordEvent(cluster, api, 'Normal', 'Created', `Created container: ${c.name}`, kubeletOn);
        recordEvent(cluster, api, 'Normal', 'Started', `Started container ${c.name}`, kubeletOn);
      }
      await cluster.call('PATCH', `${path}/status`, { status: statusOf(pod, api, world.node(node).underlayIp) }, merge);
    } catch (e) {
      recordEvent(
        cluster,
        api,
        'Warning',
        'FailedCreatePodSandBox',
        `Failed to create pod sandbox: ${(e as Error).message}`,
        {
          component: 'kubelet',
          host: node,
        },
      );
      // as the kubelet reports a sandbox it could not make: the pod stays Pending, with the reason
      await cluster
        .call(
          'PATCH',
          `${path}/status`,
          {
            status: {
              phase: 'Pending',
              conditions: [
                { type: 'PodReadyToStartContainers', status: 'False', lastProbeTime: null, lastTransitionTime: now() },
                { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now() },
              ],
              message: `Failed to create pod sandbox: ${(e as Error).message}`,
              reason: 'FailedCreatePodSandBox',
            },
          },
          merge,
        )
        .catch(() => {});
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
  return cluster.watch('/api/v1/pods', run);
}
