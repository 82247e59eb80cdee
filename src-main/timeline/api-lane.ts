// The control-plane lane's steps: each API request (who, verb, resource with namespace and name, code,
// duration) and each watch event sent (to whom, as a tick: one step per event, every watcher named),
// and how they are grouped into the timeline's operations (by the pod they are about).
import type { ApiActivity } from '../api/api-activity.js';
import type { TimelineStep, TimelineStepDetail } from '../api/contract.js';

/** The app's own pod watch (the pods panel) is the app's, not the cluster's: its share is left out. */
export const APP_WHO = 'podnet-app';

/** pods default/web, pods/status default/web, nodes node1, pods (a list), /openapi/v3 (no resource). */
export function targetOf(a: ApiActivity): string {
  if (!a.resource) return a.audit === 'request' ? a.path : '';
  const r = a.sub ? `${a.resource}/${a.sub}` : a.resource;
  if (a.name) return `${r} ${a.namespace ? `${a.namespace}/` : ''}${a.name}`;
  return a.namespace ? `${r} in ${a.namespace}` : r;
}

/** The pod an activity is about (namespace/name): a pod's own path, or an event named after it (NAME.<hex>). */
export function podKeyOf(a: ApiActivity): string | undefined {
  const ns = a.namespace ?? 'default';
  if (a.resource === 'pods' && a.name) return `${ns}/${a.name}`;
  if (a.resource === 'events' && a.name) {
    const i = a.name.lastIndexOf('.');
    if (i > 0) return `${ns}/${a.name.slice(0, i)}`;
  }
  return undefined;
}

/** Without the app's own watch; undefined when only the app's watch got it. */
export function withoutApp(a: ApiActivity): ApiActivity | undefined {
  if (a.audit === 'request') return a.who === APP_WHO && a.verb === 'watch' ? undefined : a;
  const to = a.to.filter((w) => w !== APP_WHO);
  return to.length ? { ...a, to } : undefined;
}

/** A node's heartbeat (the kubelet's node status), which the background operation collects. */
export const isHeartbeat = (a: ApiActivity) =>
  a.audit === 'request' && a.who === 'kubelet' && a.resource === 'nodes' && a.verb === 'patch';

const round = (ms: number) => Math.round(ms * 1000) / 1000;

/** An EndpointSlice's ready pods, as the step's summary says them. */
const readyText = (a: ApiActivity) =>
  a.readyPods ? ` · ready: ${a.readyPods.length ? a.readyPods.join(', ') : 'none'}` : '';

/** The step and its details, `base` being the operation's time zero (wall clock, ms). */
export function apiStep(a: ApiActivity, id: number, base: number): { step: TimelineStep; detail: TimelineStepDetail } {
  const start = round(a.at - base);
  const target = targetOf(a);
  if (a.audit === 'request') {
    const step: TimelineStep = {
      id,
      component: 'apiserver',
      name: `${a.who} ${a.verb} ${target} ${a.code}`,
      start,
      end: round(start + a.ms),
      // a get's 404 is an answer (kubectl apply asks whether the object exists before it creates it)
      ...(a.code >= 400 && !(a.code === 404 && a.verb === 'get')
        ? { error: `${a.code}: the API server refused ${a.method} ${a.path}` }
        : {}),
      summary: `${a.method} ${a.path} → ${a.code}${a.instance ? ` · ${a.who} ${a.instance}` : ''}${readyText(a)}`,
    };
    const inputs = {
      component: a.who,
      ...(a.instance ? { instance: a.instance } : {}),
      verb: a.verb,
      method: a.method,
      path: a.path,
      ...(a.resource ? { resource: a.resource } : {}),
      ...(a.namespace ? { namespace: a.namespace } : {}),
      ...(a.name ? { name: a.name } : {}),
      ...(a.sub ? { subresource: a.sub } : {}),
    };
    return {
      step,
      detail: {
        step,
        inputs: JSON.stringify(inputs, null, 2),
        outputs: JSON.stringify(
          { code: a.code, ms: a.ms, ...(a.readyPods ? { readyPods: a.readyPods } : {}) },
          null,
          2,
        ),
      },
    };
  }
  const step: TimelineStep = {
    id,
    component: 'apiserver',
    name: `watch ${a.type} ${target} → ${[...new Set(a.to)].join(', ')}`,
    start,
    end: start,
    summary: `resourceVersion ${a.rv}: sent on ${a.to.length} watch${a.to.length === 1 ? '' : 'es'}${readyText(a)}`,
  };
  return {
    step,
    detail: {
      step,
      inputs: JSON.stringify(
        { event: a.type, resource: a.resource, namespace: a.namespace, name: a.name, resourceVersion: a.rv },
        null,
        2,
      ),
      outputs: JSON.stringify({ sentTo: a.to, ...(a.readyPods ? { readyPods: a.readyPods } : {}) }, null, 2),
    },
  };
}

/**
 * Which pod an EndpointSlice change is about, by pod key (namespace/name), among the pod operations open:
 * a pod it newly lists as ready whose create is ending, else one it stopped listing whose deletion is under
 * way; failing both, one it lists as ready (creates) or does not (deletions). The latest such operation wins.
 */
export function slicePod(
  readyNow: readonly string[],
  readyBefore: readonly string[] | undefined,
  open: { creates: readonly string[]; deletes: readonly string[] },
): string | undefined {
  const now = new Set(readyNow);
  const before = new Set(readyBefore ?? []);
  const last = (keys: readonly string[], fits: (k: string) => boolean) => keys.filter(fits).at(-1);
  return (
    last(open.creates, (k) => now.has(k) && !before.has(k)) ??
    last(open.deletes, (k) => before.has(k) && !now.has(k)) ??
    last(open.creates, (k) => now.has(k)) ??
    last(open.deletes, (k) => !now.has(k))
  );
}
