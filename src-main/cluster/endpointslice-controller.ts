// The EndpointSlice controller (kube-controller-manager's endpointslice-controller): for each Service with a
// selector, the slices of the pods it selects — one set per address family, grouped by the ports each pod
// resolves (a named targetPort from the pod's containerPorts), at most 100 endpoints a slice, a placeholder
// slice with no endpoints when none match. An endpoint's conditions are the controller's rule: ready = the
// pod's Ready condition and not terminating, serving = the pod's Ready condition, terminating = the pod has
// a deletionTimestamp. It reacts to pod, Service and slice watches; a Service gone takes its slices with it
// (the garbage collector's work on a real cluster, through the slices' ownerReferences).
import type { ApiClient } from './cluster.js';
import { recordEvent } from './events.js';
import { labelsMatch, selectorOfMap } from './label-selector.js';
import { portsOf, type Endpoint, type EndpointPort, type KubeObject } from './resources.js';
import { isIPv4, isIPv6 } from './service-ips.js';

export const MANAGED_BY = 'endpointslice-controller.k8s.io';
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
const HEADLESS_LABEL = 'service.kubernetes.io/headless';
const TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
/** --max-endpoints-per-slice's default. */
const MAX_ENDPOINTS = 100;
const SLICES = '/apis/discovery.k8s.io/v1';
const SOURCE = { component: 'endpoint-slice-controller' };

type Family = 'IPv4' | 'IPv6';
type Condition = { type?: string; status?: string };
type ContainerPort = { name?: string; containerPort?: number; protocol?: string };

const keyOf = (o: KubeObject) => `${o.metadata?.namespace ?? 'default'}/${o.metadata?.name}`;
const rv = (o: KubeObject | undefined) => Number(o?.metadata?.resourceVersion ?? 0);
const isReady = (pod: KubeObject) =>
  ((pod.status?.conditions ?? []) as Condition[]).some((c) => c.type === 'Ready' && c.status === 'True');

/** The pod's address in a family: status.podIPs (or podIP), as getEndpointAddresses picks it. */
function addressOf(pod: KubeObject, family: Family): string | undefined {
  const ips = ((pod.status?.podIPs ?? []) as { ip?: string }[]).map((p) => p.ip);
  if (typeof pod.status?.podIP === 'string') ips.unshift(pod.status.podIP);
  return ips.find((ip) => (family === 'IPv4' ? isIPv4(ip) : isIPv6(ip)));
}

/** The Service's ports as this pod serves them (podutil.FindPort): a named targetPort from its containers. */
export function endpointPorts(svc: KubeObject, pod: KubeObject): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of portsOf(svc)) {
    const protocol = sp.protocol ?? 'TCP';
    let port: number | undefined;
    if (typeof sp.targetPort === 'string') {
      const containers = (pod.spec?.containers ?? []) as { ports?: ContainerPort[] }[];
      port = containers
        .flatMap((c) => c.ports ?? [])
        .find((p) => p.name === sp.targetPort && (p.protocol ?? 'TCP') === protocol)?.containerPort;
    } else port = sp.targetPort ?? sp.port;
    // a pod without the named port has no endpoint port for it (FindPort's error: the port is skipped)
    if (typeof port !== 'number') continue;
    out.push({
      name: sp.name ?? '',
      port,
      protocol,
      ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
    });
  }
  return out;
}

/** The pod's endpoint, or undefined when it has none (no address yet, or it finished: Succeeded/Failed). */
export function endpointOf(svc: KubeObject, pod: KubeObject, family: Family): Endpoint | undefined {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return undefined;
  const address = addressOf(pod, family);
  if (!address) return undefined;
  const publish = svc.spec?.publishNotReadyAddresses === true;
  const terminating = Boolean(pod.metadata?.deletionTimestamp);
  const podReady = isReady(pod);
  return {
    addresses: [address],
    // ready is never true while terminating (unless the Service publishes not-ready addresses)
    conditions: { ready: publish || (podReady && !terminating), serving: publish || podReady, terminating },
    ...(typeof pod.spec?.nodeName === 'string' ? { nodeName: pod.spec.nodeName } : {}),
    targetRef: {
      kind: 'Pod',
      namespace: pod.metadata?.namespace ?? 'default',
      name: pod.metadata?.name,
      uid: pod.metadata?.uid,
    },
  };
}

/** The slices' content the Service should have: per family, per port set, endpoints in chunks of 100. */
export function desiredSlices(
  svc: KubeObject,
  pods: KubeObject[],
): { family: Family; ports: EndpointPort[] | null; endpoints: Endpoint[] | null }[] {
  const selector = selectorOfMap((svc.spec?.selector ?? {}) as Record<string, string>);
  const families = ((svc.spec?.ipFamilies as Family[] | undefined) ?? ['IPv4']).filter(
    (f) => f === 'IPv4' || f === 'IPv6',
  );
  const chosen = pods
    .filter((p) => p.metadata?.namespace === svc.metadata?.namespace && labelsMatch(p.metadata?.labels, selector))
    .sort((a, b) => String(a.metadata?.name).localeCompare(String(b.metadata?.name)));
  const out: ReturnType<typeof desiredSlices> = [];
  for (const family of families) {
    const groups = new Map<string, { ports: EndpointPort[]; endpoints: Endpoint[] }>();
    for (const pod of chosen) {
      const ep = endpointOf(svc, pod, family);
      if (!ep) continue;
      const ports = endpointPorts(svc, pod);
      const k = JSON.stringify(ports);
      const g = groups.get(k) ?? { ports, endpoints: [] };
      g.endpoints.push(ep);
      groups.set(k, g);
    }
    // no endpoint at all: one placeholder slice (the real controller keeps one, so the Service has a slice)
    if (!groups.size) out.push({ family, ports: null, endpoints: null });
    for (const g of groups.values())
      for (let i = 0; i < g.endpoints.length; i += MAX_ENDPOINTS)
        out.push({ family, ports: g.ports, endpoints: g.endpoints.slice(i, i + MAX_ENDPOINTS) });
  }
  return out;
}

/** The labels a managed slice carries: the Service's own (but the reserved ones), then the controller's. */
function sliceLabels(svc: KubeObject): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
  for (const k of [SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL]) delete labels[k];
  if (svc.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  labels[SERVICE_NAME_LABEL] = svc.metadata!.name!;
  labels[MANAGED_BY_LABEL] = MANAGED_BY;
  return labels;
}

const sameContent = (a: KubeObject, b: { labels: Record<string, string>; ports: unknown; endpoints: unknown }) =>
  JSON.stringify(a.metadata?.labels ?? {}) === JSON.stringify(b.labels) &&
  JSON.stringify(a.ports ?? null) === JSON.stringify(b.ports) &&
  JSON.stringify(a.endpoints ?? null) === JSON.stringify(b.endpoints);

export function startEndpointSliceController(cluster: ApiClient): () => void {
  const services = new Map<string, KubeObject>();
  const pods = new Map<string, KubeObject>();
  /** The slices this controller manages, by namespace/name. */
  const slices = new Map<string, KubeObject>();
  const dirty = new Set<string>();
  let running = false;
  let stopped = false;
  const retries = new Map<string, ReturnType<typeof setTimeout>>();

  const keep = (map: Map<string, KubeObject>, type: string, o: KubeObject) => {
    const k = keyOf(o);
    if (type === 'DELETED') map.delete(k);
    else if (rv(o) >= rv(map.get(k))) map.set(k, o);
  };
  const managed = (o: KubeObject) => o.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY;

  /** Brings one Service's slices to what its pods say; answers once the API has them. */
  const sync = async (key: string) => {
    const [ns, name] = key.split('/') as [string, string];
    const svc = services.get(key);
    const mine = [...slices.values()].filter(
      (s) => s.metadata?.namespace === ns && s.metadata?.labels?.[SERVICE_NAME_LABEL] === name,
    );
    const base = `${SLICES}/namespaces/${ns}/endpointslices`;
    const remove = async (s: KubeObject) => {
      await cluster.call('DELETE', `${base}/${s.metadata!.name}`).catch((e: Error) => {
        if (!/not found/.test(e.message)) throw e;
      });
      slices.delete(keyOf(s));
    };
    const selector = svc?.spec?.selector as Record<string, string> | undefined;
    if (!svc || !selector || !Object.keys(selector).length) {
      for (const s of mine) await remove(s);
      return;
    }
    const want = desiredSlices(svc, [...pods.values()]);
    const labels = sliceLabels(svc);
    const owner = {
      apiVersion: 'v1',
      kind: 'Service',
      name,
      uid: svc.metadata?.uid,
      controller: true,
      blockOwnerDeletion: true,
    };
    const unused = new Set(mine);
    const writes: { existing?: KubeObject; family: Family; ports: unknown; endpoints: unknown }[] = [];
    // an existing slice of the same family and ports is reused first; then any of the family
    for (const w of want) {
      const same = [...unused].find(
        (s) => s.addressType === w.family && JSON.stringify(s.ports ?? null) === JSON.stringify(w.ports),
      );
      const any = same ?? [...unused].find((s) => s.addressType === w.family);
      if (any) unused.delete(any);
      writes.push({ ...(any ? { existing: any } : {}), ...w });
    }
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    for (const w of writes) {
      const content = { labels, ports: w.ports, endpoints: w.endpoints };
      if (w.existing && sameContent(w.existing, content)) continue;
      const body: KubeObject = {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          ...(w.existing
            ? { name: w.existing.metadata!.name, resourceVersion: w.existing.metadata!.resourceVersion }
            : { generateName: `${name}-` }),
          namespace: ns,
          labels,
          annotations: { ...(w.existing?.metadata?.annotations ?? {}), [TRIGGER_TIME]: now },
          ownerReferences: [owner],
        },
        addressType: w.family,
        endpoints: w.endpoints,
        ports: w.ports,
      };
      const written = w.existing
        ? await cluster.call('PUT', `${base}/${w.existing.metadata!.name}`, body)
        : await cluster.call('POST', base, body);
      keep(slices, 'MODIFIED', written);
    }
    for (const s of unused) await remove(s);
  };

  const drain = async () => {
    if (running) return;
    running = true;
    try {
      while (dirty.size && !stopped) {
        const key = dirty.values().next().value!;
        dirty.delete(key);
        try {
          await sync(key);
        } catch (e) {
          const svc = services.get(key);
          if (svc)
            recordEvent(
              cluster,
              svc,
              'Warning',
              'FailedToUpdateEndpointSlices',
              `Error updating Endpoint Slices for Service ${key}: ${(e as Error).message}`,
              SOURCE,
            );
          // the work queue's rate-limited retry (a stale resourceVersion is read afresh by then)
          if (!retries.has(key) && !stopped)
            retries.set(
              key,
              setTimeout(() => {
                retries.delete(key);
                enqueue(key);
              }, 1000),
            );
        }
      }
    } finally {
      running = false;
    }
  };
  const enqueue = (key: string) => {
    dirty.add(key);
    // a burst of watch events is one pass
    setImmediate(() => void drain());
  };

  /** The Services in the pod's namespace that select it, before or after this change. */
  const servicesOf = (...versions: (KubeObject | undefined)[]) => {
    const out: string[] = [];
    for (const [k, svc] of services) {
      const sel = svc.spec?.selector as Record<string, string> | undefined;
      if (!sel || !Object.keys(sel).length) continue;
      const req = selectorOfMap(sel);
      if (
        versions.some(
          (p) => p && p.metadata?.namespace === svc.metadata?.namespace && labelsMatch(p.metadata?.labels, req),
        )
      )
        out.push(k);
    }
    return out;
  };

  const stops: (() => void)[] = [];
  const start = async () => {
    // the informers' lists first, so the first passes see every pod (no empty slice before the pods arrive)
    const [svcs, podList, sliceList] = await Promise.all([
      cluster.call<{ items: KubeObject[] }>('GET', '/api/v1/services'),
      cluster.call<{ items: KubeObject[] }>('GET', '/api/v1/pods'),
      cluster.call<{ items: KubeObject[] }>('GET', `${SLICES}/endpointslices`),
    ]);
    if (stopped) return;
    for (const o of svcs.items) keep(services, 'ADDED', o);
    for (const o of podList.items) keep(pods, 'ADDED', o);
    for (const o of sliceList.items) if (managed(o)) keep(slices, 'ADDED', o);
    stops.push(
      cluster.watch('/api/v1/services', (type, svc) => {
        keep(services, type, svc);
        enqueue(keyOf(svc));
      }),
      cluster.watch('/api/v1/pods', (type, pod) => {
        const before = pods.get(keyOf(pod));
        keep(pods, type, pod);
        for (const k of servicesOf(before, pod)) enqueue(k);
      }),
      cluster.watch(`${SLICES}/endpointslices`, (type, s) => {
        if (!managed(s)) return;
        const known = slices.get(keyOf(s));
        keep(slices, type, s);
        // a slice changed by someone else is put back (the controller's own writes come back unchanged)
        if (type === 'DELETED' ? known : rv(s) > rv(known))
          enqueue(`${s.metadata?.namespace}/${s.metadata?.labels?.[SERVICE_NAME_LABEL]}`);
      }),
    );
    for (const k of services.keys()) enqueue(k);
  };
  let tries = 0;
  const begin = () =>
    void start().catch(() => {
      // the API server may still be starting: try again, as an informer's list does
      if (!stopped && tries++ < 50) setTimeout(begin, 200);
    });
  begin();
  return () => {
    stopped = true;
    for (const s of stops) s();
    for (const t of retries.values()) clearTimeout(t);
  };
}
