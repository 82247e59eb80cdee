// The API server's activity, as the timeline's control-plane lane shows it: one JSON line on the API
// server's stdout per request (who, from the User-Agent; the verb; the resource with its namespace and
// name; the response code; how long it took) and per watch event sent (batched: one line per event
// with every watcher it went to). The engine reads the lines back (cluster.ts) on the same clock.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiActivity, ApiPlace, ApiRequestRecord, ApiWatchRecord } from '../api/api-activity.js';

export type { ApiActivity };

/** What a line starts with: anything else on the API server's stdout is text (its "serving" line). */
export const AUDIT_PREFIX = '{"audit":';

type Place = ApiPlace;

const wallNow = () => performance.timeOrigin + performance.now();

/** kubectl/v1.36.4 (linux/amd64) kubernetes/abc → kubectl; "kubelet/… kubernetes/podnet node1" → kubelet, node1. */
export function whoOf(userAgent: string | undefined): { who: string; instance?: string } {
  const ua = userAgent ?? '';
  const who = /^[^/\s]+/.exec(ua)?.[0] ?? 'unknown';
  const m = /kubernetes\/podnet(?:\/(\S+)| (\S+))/.exec(ua);
  const instance = m?.[1] ?? m?.[2];
  return instance ? { who, instance } : { who };
}

/**
 * /api/v1/… or /apis/GROUP/VERSION/… then [watch/][namespaces/NS/]RESOURCE[/NAME[/SUB]] as a place;
 * other paths (discovery, /openapi, /version) have none.
 */
export function placeOf(pathname: string): Place & { watchPath: boolean } {
  let parts = pathname.split('/').filter(Boolean);
  if (parts[0] === 'api' && parts[1] === 'v1') parts = parts.slice(2);
  else if (parts[0] === 'apis' && parts.length > 3) parts = parts.slice(3);
  else return { watchPath: false };
  const watchPath = parts[0] === 'watch';
  if (watchPath) parts = parts.slice(1);
  let namespace: string | undefined;
  if (parts[0] === 'namespaces' && parts.length >= 3) {
    namespace = parts[1];
    parts = parts.slice(2);
  }
  const [resource, name, sub] = parts;
  return {
    watchPath,
    ...(resource ? { resource } : {}),
    ...(namespace ? { namespace } : {}),
    ...(name ? { name } : {}),
    ...(sub ? { sub } : {}),
  };
}

function verbOf(method: string, watching: boolean, named: boolean): string {
  if (watching) return 'watch';
  const verbs: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };
  return verbs[method] ?? (named ? 'get' : 'list');
}

interface SliceLike {
  endpoints?: { conditions?: { ready?: boolean }; targetRef?: { kind?: string; name?: string } }[] | null;
}

/** The pods an EndpointSlice lists as ready (EndpointSlice semantics: a missing `ready` is ready). */
export function readyPodsOf(slice: SliceLike): string[] {
  return (slice.endpoints ?? [])
    .filter((e) => e.conditions?.ready !== false && e.targetRef?.kind === 'Pod' && e.targetRef.name)
    .map((e) => e.targetRef!.name!);
}

/**
 * Audits one request: a line when it is answered (a watch: when its stream starts). Called by the API
 * server's process before the request is handled.
 */
export function auditRequest(req: IncomingMessage, res: ServerResponse, write: (line: string) => void): void {
  const at = wallNow();
  const url = new URL(req.url ?? '/', 'http://apiserver');
  const { watchPath, ...place } = placeOf(url.pathname);
  const watching = watchPath || url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
  const method = req.method ?? 'GET';
  // a field selector on a name (kubectl wait, delete) makes a list about one object
  const byName = /(?:^|,)metadata\.name=([^,]+)/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
  // a create names its object only in the body: the answer's metadata gives the name (and namespace)
  let created: { name?: string; namespace?: string } | undefined;
  // an EndpointSlice written says which pods it now lists as ready: the timeline's link to a pod's Ready
  let readyPods: string[] | undefined;
  const sliceWrite = place.resource === 'endpointslices' && ['POST', 'PUT', 'PATCH'].includes(method);
  if ((method === 'POST' && !place.name) || sliceWrite) {
    const end = res.end.bind(res) as (...a: unknown[]) => ServerResponse;
    res.end = ((...a: unknown[]) => {
      if (typeof a[0] === 'string' && res.statusCode < 300) {
        try {
          const answer = JSON.parse(a[0]) as SliceLike & { metadata?: { name?: string; namespace?: string } };
          if (method === 'POST' && !place.name) created = answer.metadata;
          if (sliceWrite) readyPods = readyPodsOf(answer);
        } catch {
          /* not JSON: no name to add */
        }
      }
      return end(...a);
    }) as typeof res.end;
  }
  const record = (): ApiRequestRecord => ({
    audit: 'request',
    at,
    ms: Math.round((wallNow() - at) * 1000) / 1000,
    ...whoOf(req.headers['user-agent']),
    // a path outside the resources (discovery, /version, /openapi) is read with get
    verb: verbOf(method, watching, place.name !== undefined || place.resource === undefined),
    method,
    path: url.pathname,
    ...place,
    ...(!place.name && byName ? { name: byName } : {}),
    ...(created?.name ? { name: created.name } : {}),
    ...(!place.namespace && created?.namespace ? { namespace: created.namespace } : {}),
    ...(readyPods ? { readyPods } : {}),
    code: res.statusCode,
  });
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    write(JSON.stringify(record()));
  };
  if (watching) {
    // a watch's answer is a stream that may last 30 minutes: its line says when it started
    const writeHead = res.writeHead.bind(res) as (...a: unknown[]) => ServerResponse;
    res.writeHead = (...a: unknown[]) => {
      const r = writeHead(...a);
      once();
      return r;
    };
  }
  res.on('finish', once);
  res.on('close', once);
}

/**
 * Watch events, batched: each event the API server publishes becomes one line, with every watcher it
 * was written to (the scheduler, each kubelet, kubectl get -w), once the publish is over.
 */
export class WatchAudit {
  private pending = new Map<object, ApiWatchRecord>();
  private scheduled = false;
  constructor(private readonly write: (line: string) => void) {}

  sent(
    event: object,
    e: { type: string; object: { metadata?: { name?: string; namespace?: string; resourceVersion?: string } } },
    resource: string,
    userAgent: string | undefined,
  ): void {
    let r = this.pending.get(event);
    if (!r) {
      const m = e.object.metadata ?? {};
      r = {
        audit: 'watch',
        at: wallNow(),
        type: e.type,
        resource,
        ...(m.namespace ? { namespace: m.namespace } : {}),
        ...(m.name ? { name: m.name } : {}),
        rv: m.resourceVersion ?? '',
        ...(resource === 'endpointslices' ? { readyPods: readyPodsOf(e.object as SliceLike) } : {}),
        to: [],
      };
      this.pending.set(event, r);
    }
    const { who, instance } = whoOf(userAgent);
    r.to.push(instance && who === 'kubelet' ? `${who} ${instance}` : who);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.scheduled = false;
    const batch = [...this.pending.values()];
    this.pending.clear();
    for (const r of batch) this.write(JSON.stringify(r));
  }
}

/** A line of the API server's stdout as activity, or undefined when it is text. */
export function parseActivity(line: string): ApiActivity | undefined {
  if (!line.startsWith(AUDIT_PREFIX)) return undefined;
  try {
    return JSON.parse(line) as ApiActivity;
  } catch {
    return undefined;
  }
}
