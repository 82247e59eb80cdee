// The scheduler: binds each pending pod to a Ready node that fits — its nodeName if it names one (then
// no scheduler is involved), a nodeSelector the node's labels satisfy, and no NoSchedule taint the pod
// does not tolerate (node.kubernetes.io/not-ready on a NotReady node) — the node with fewest pods first.
// A pod that fits nowhere stays Pending with PodScheduled=False and the reason, as the real one reports it.
import type { ApiClient } from './cluster.js';
import { recordEvent } from './events.js';
import type { KubeObject } from './resources.js';

type Taint = { key: string; value?: string; effect: string };
type Toleration = { key?: string; operator?: string; value?: string; effect?: string };

const tolerates = (ts: Toleration[], t: Taint) =>
  ts.some(
    (x) =>
      (!x.effect || x.effect === t.effect) &&
      (x.operator === 'Exists' ? !x.key || x.key === t.key : x.key === t.key && (x.value ?? '') === (t.value ?? '')),
  );

/** Why a node does not fit the pod, in the scheduler's words, or undefined when it fits. */
function misfit(pod: KubeObject, node: KubeObject): string | undefined {
  const tolerations = (pod.spec?.tolerations ?? []) as Toleration[];
  const taint = ((node.spec?.taints ?? []) as Taint[]).find(
    (t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !tolerates(tolerations, t),
  );
  if (taint) return `node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`;
  const selector = (pod.spec?.nodeSelector ?? {}) as Record<string, string>;
  const labels = node.metadata?.labels ?? {};
  if (Object.entries(selector).some(([k, v]) => labels[k] !== v))
    return "node(s) didn't match Pod's node affinity/selector";
  return undefined;
}

/** Picks the node for a pod, or says why none fits ("0/2 nodes are available: …"). */
export function choose(
  pod: KubeObject,
  nodes: KubeObject[],
  podsOn: Map<string, number>,
): { node?: string; why?: string } {
  const fits: string[] = [];
  const reasons = new Map<string, number>();
  for (const n of nodes) {
    const why = misfit(pod, n);
    if (why) reasons.set(why, (reasons.get(why) ?? 0) + 1);
    else fits.push(n.metadata!.name!);
  }
  if (fits.length) {
    fits.sort((a, b) => (podsOn.get(a) ?? 0) - (podsOn.get(b) ?? 0) || a.localeCompare(b));
    return { node: fits[0] };
  }
  const parts = [...reasons].map(([why, n]) => `${n} ${why}`).sort();
  return {
    why: `0/${nodes.length} nodes are available: ${parts.join(', ')}. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.`,
  };
}

const SCHEDULER = { component: 'default-scheduler' };

export function startScheduler(cluster: ApiClient): () => void {
  const pending = new Map<string, KubeObject>();
  const told = new Map<string, string>();
  let busy = false;
  const pass = async () => {
    if (busy || !pending.size) return;
    busy = true;
    try {
      const [nodes, pods] = await Promise.all([
        cluster.call<{ items: KubeObject[] }>('GET', '/api/v1/nodes'),
        cluster.call<{ items: KubeObject[] }>('GET', '/api/v1/pods'),
      ]);
      const podsOn = new Map<string, number>();
      for (const p of pods.items) {
        const n = p.spec?.nodeName;
        if (typeof n === 'string') podsOn.set(n, (podsOn.get(n) ?? 0) + 1);
      }
      for (const [key, pod] of pending) {
        const { node, why } = choose(pod, nodes.items, podsOn);
        const path = `/api/v1/namespaces/${pod.metadata!.namespace}/pods/${pod.metadata!.name}`;
        if (node) {
          pending.delete(key);
          podsOn.set(node, (podsOn.get(node) ?? 0) + 1);
          const bound = await cluster
            .call('POST', `${path}/binding`, {
              apiVersion: 'v1',
              kind: 'Binding',
              metadata: pod.metadata,
              target: { kind: 'Node', name: node },
            })
            .then(
              () => true,
              () => false,
            );
          if (bound)
            recordEvent(
              cluster,
              pod,
              'Normal',
              'Scheduled',
              `Successfully assigned ${pod.metadata!.namespace}/${pod.metadata!.name} to ${node}`,
              SCHEDULER,
            );
        } else if (why && told.get(key) !== why) {
          told.set(key, why);
          recordEvent(cluster, pod, 'Warning', 'FailedScheduling', why, SCHEDULER);
          const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
          await cluster
            .call(
              'PATCH',
              `${path}/status`,
              {
                status: {
                  conditions: [
                    {
                      type: 'PodScheduled',
                      status: 'False',
                      reason: 'Unschedulable',
                      message: why,
                      lastProbeTime: null,
                      lastTransitionTime: now,
                    },
                  ],
                },
              },
              'application/merge-patch+json',
            )
            .catch(() => {});
        }
      }
    } catch {
      /* the API server went with its world: nothing to schedule */
    } finally {
      busy = false;
    }
  };
  const stop = cluster.watch('/api/v1/pods', (type, pod) => {
    const key = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
    if (type === 'DELETED' || pod.spec?.nodeName || pod.metadata?.deletionTimestamp) {
      pending.delete(key);
      told.delete(key);
      return;
    }
    pending.set(key, pod);
    void pass();
  });
  // an unschedulable pod is tried again as nodes change (a node turning Ready)
  const retry = setInterval(() => void pass(), 1000);
  return () => {
    stop();
    clearInterval(retry);
  };
}
