// The lab's API server: a model of kube-apiserver that speaks enough of the real REST API for the real
// kubectl 1.36 to work unchanged — discovery, get/list (as the server-side Table kubectl prints), watch,
// create, update, merge patch, delete — over the real etcd. What it does not serve is answered in the
// API's own Status shape, with a message that names what the lab supports.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EtcdStore, type Stored } from './etcd-store.js';
import { RESOURCES, type KubeObject, type Resource } from './resources.js';
import type { WatchAudit } from './audit.js';

export const KUBE_VERSION = { major: '1', minor: '36', gitVersion: 'v1.36.0-podnet' };

/** The API's error: a Status object with the HTTP code and reason kubectl prints. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
  status() {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

const notFound = (r: Resource, name: string) =>
  new ApiError(404, 'NotFound', `${r.name} "${name}" not found`, { name, kind: r.name });

const SUPPORTED = RESOURCES.map((r) => r.name).join(', ');

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: Resource;
  object: KubeObject;
  revision: number;
}

/** A request as the router reads it. */
interface Route {
  resource: Resource;
  namespace?: string;
  name?: string;
  /** pods/status, nodes/status: only the status may change; pods/binding: the scheduler's bind. */
  sub?: 'status' | 'binding';
}

/** Events kept for a watch that starts from a list's resourceVersion (kube-apiserver's watch cache). */
const HISTORY = 1000;

export class ApiServer {
  private readonly history: WatchEvent[] = [];
  private readonly watchers = new Set<(e: WatchEvent) => void>();

  constructor(
    private readonly store: EtcdStore,
    /** Where clients reach it (discovery's serverAddressByClientCIDRs). */
    private readonly address: string,
  ) {}

  /** Creates what a new cluster has: the default, kube-system and kube-public namespaces. */
  async bootstrap(): Promise<void> {
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease'])
      await this.create({ resource: RESOURCES.find((r) => r.name === 'namespaces')! }, { metadata: { name } }).catch(
        (e: unknown) => {
          if (!(e instanceof ApiError && e.code === 409)) throw e;
        },
      );
  }

  private key(r: Resource, namespace: string | undefined, name: string): string {
    return `${r.registry}${r.namespaced ? `${namespace}/` : ''}${name}`;
  }

  private static read(s: Stored): KubeObject {
    const o = JSON.parse(s.value) as KubeObject;
    o.metadata = { ...o.metadata, resourceVersion: String(s.modRevision) };
    return o;
  }

  private publish(e: WatchEvent): void {
    this.history.push(e);
    if (this.history.length > HISTORY) this.history.shift();
    for (const w of this.watchers) w(e);
  }

  async get(route: Route): Promise<KubeObject> {
    const s = await this.store.get(this.key(route.resource, route.namespace, route.name!));
    if (!s) throw notFound(route.resource, route.name!);
    return ApiServer.read(s);
  }

  async list(route: Route): Promise<{ items: KubeObject[]; revision: number }> {
    const prefix =
      route.resource.namespaced && route.namespace
        ? `${route.resource.registry}${route.namespace}/`
        : route.resource.registry;
    const { items, revision } = await this.store.list(prefix);
    return { items: items.map((s) => ApiServer.read(s)), revision };
  }

  private async namespaceExists(ns: string): Promise<void> {
    if (!(await this.store.get(`/registry/namespaces/${ns}`)))
      throw new ApiError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
  }

  /** Refuses a kind sent to another kind's endpoint, a spec field the lab does not model, and an invalid object. */
  private check(r: Resource, o: KubeObject): void {
    if (o.kind && o.kind !== r.kind)
      throw new ApiError(400, 'BadRequest', `the body is a ${o.kind}, but this is the ${r.name} endpoint`);
    const errs: string[] = [];
    if (r.specFields && o.spec)
      for (const f of Object.keys(o.spec))
        if (!r.specFields.includes(f))
          errs.push(
            `spec.${f}: this lab's API server does not model this field (a ${r.kind}'s spec here may have: ${r.specFields.join(', ')})`,
          );
    errs.push(...(r.validate?.(o) ?? []));
    if (!errs.length) return;
    const name = o.metadata?.name ?? '';
    // the API's Invalid: kubectl prints "The Pod "x" is invalid: field: message" from the causes
    throw new ApiError(422, 'Invalid', `${r.kind} "${name}" is invalid: ${errs.join(', ')}`, {
      name,
      group: '',
      kind: r.kind,
      causes: errs.map((e) => {
        const at = e.indexOf(': ');
        return { reason: 'FieldValueInvalid', field: e.slice(0, at), message: e.slice(at + 2) };
      }),
    });
  }

  async create(route: Route, body: KubeObject): Promise<KubeObject> {
    const r = route.resource;
    const o: KubeObject = structuredClone(body);
    const meta = (o.metadata ??= {});
    if (r.namespaced) {
      const ns = route.namespace ?? meta.namespace ?? 'default';
      if (meta.namespace && meta.namespace !== ns)
        throw new ApiError(
          400,
          'BadRequest',
          `the namespace of the provided object (${meta.namespace}) does not match the namespace sent on the request (${ns})`,
        );
      meta.namespace = ns;
      await this.namespaceExists(ns);
    } else delete meta.namespace;
    if (!meta.name && typeof meta.generateName === 'string')
      meta.name = `${meta.generateName}${randomUUID().slice(0, 5)}`;
    this.check(r, o);
    o.apiVersion = 'v1';
    o.kind = r.kind;
    meta.uid = randomUUID();
    meta.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    delete meta.resourceVersion;
    r.defaults?.(o);
    const key = this.key(r, meta.namespace, meta.name!);
    const rev = await this.store.putIf(key, JSON.stringify(o), 0);
    if (rev === undefined)
      throw new ApiError(409, 'AlreadyExists', `${r.name} "${meta.name}" already exists`, {
        name: meta.name,
        kind: r.name,
      });
    meta.resourceVersion = String(rev);
    this.publish({ type: 'ADDED', resource: r, object: o, revision: rev });
    return o;
  }

  /** Replaces an object (PUT), or its status alone (pods/status), as long as its resourceVersion is current. */
  async update(route: Route, body: KubeObject): Promise<KubeObject> {
    const r = route.resource;
    const key = this.key(r, route.namespace, route.name!);
    const cur = await this.store.get(key);
    if (!cur) throw notFound(r, route.name!);
    const old = ApiServer.read(cur);
    const given = body.metadata?.resourceVersion;
    if (given && given !== String(cur.modRevision))
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${r.name} "${route.name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name: route.name, kind: r.name },
      );
    const o: KubeObject =
      route.sub === 'status'
        ? { ...old, status: structuredClone(body.status ?? {}) }
        : { ...structuredClone(body), status: old.status, apiVersion: 'v1', kind: r.kind };
    o.metadata = { ...(route.sub === 'status' ? old.metadata : o.metadata), name: old.metadata!.name };
    const kept = o.metadata as Record<string, unknown>;
    for (const k of ['uid', 'creationTimestamp', 'namespace', 'deletionTimestamp'])
      if (old.metadata![k] !== undefined) kept[k] = old.metadata![k];
    delete o.metadata.resourceVersion;
    if (route.sub !== 'status') this.check(r, o);
    const rev = await this.store.putIf(key, JSON.stringify(o), cur.modRevision);
    if (rev === undefined)
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${r.name} "${route.name}": the object has been modified`,
      );
    o.metadata.resourceVersion = String(rev);
    this.publish({ type: 'MODIFIED', resource: r, object: o, revision: rev });
    return o;
  }

  /** A JSON merge patch (RFC 7386); a strategic merge patch is taken as one (lists replaced whole). */
  async patch(route: Route, patch: unknown): Promise<KubeObject> {
    for (let attempt = 0; ; attempt++) {
      const cur = await this.get(route);
      const merged = mergePatch(cur, patch) as KubeObject;
      merged.metadata = { ...merged.metadata, resourceVersion: cur.metadata!.resourceVersion };
      try {
        return await this.update(route, merged);
      } catch (e) {
        if (!(e instanceof ApiError && e.reason === 'Conflict') || attempt >= 5) throw e;
      }
    }
  }

  /**
   * pods/binding, as the scheduler posts it: the pod gets its node (once: a bound pod is not moved)
   * and the PodScheduled condition.
   */
  async bind(route: Route, b: KubeObject): Promise<unknown> {
    const node = (b.target as { name?: string } | undefined)?.name;
    if (!node) throw new ApiError(400, 'BadRequest', 'a binding names its target node (target.name)');
    const pod = await this.get({ ...route, sub: undefined });
    const bound = pod.spec?.nodeName;
    if (typeof bound === 'string' && bound)
      throw new ApiError(409, 'Conflict', `pod ${route.name} is already assigned to node "${bound}"`);
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const conditions = [
      ...((pod.status?.conditions ?? []) as { type: string }[]).filter((c) => c.type !== 'PodScheduled'),
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now },
    ];
    await this.update(
      { ...route, sub: undefined },
      {
        ...pod,
        spec: { ...pod.spec, nodeName: node },
        status: pod.status,
      },
    );
    const cur = await this.get({ ...route, sub: undefined });
    await this.update({ ...route, sub: 'status' }, { ...cur, status: { ...cur.status, conditions } });
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
  }

  /**
   * A bound pod is deleted gracefully: it gets its deletionTimestamp and grace period, and its kubelet
   * stops it, then deletes it for good (grace 0). Anything else goes at once.
   */
  async delete(route: Route, gracePeriodSeconds?: number): Promise<KubeObject> {
    const r = route.resource;
    if (r.name === 'pods' && gracePeriodSeconds !== 0) {
      const pod = await this.get(route);
      if (pod.spec?.nodeName) {
        if (pod.metadata?.deletionTimestamp) return pod;
        const grace = gracePeriodSeconds ?? Number(pod.spec.terminationGracePeriodSeconds ?? 30);
        const at = new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
        return this.markDeleted(route, at, grace);
      }
    }
    const key = this.key(r, route.namespace, route.name!);
    for (let attempt = 0; ; attempt++) {
      const cur = await this.store.get(key);
      if (!cur) throw notFound(r, route.name!);
      const rev = await this.store.deleteIf(key, cur.modRevision);
      if (rev !== undefined) {
        const o = ApiServer.read(cur);
        this.publish({ type: 'DELETED', resource: r, object: o, revision: rev });
        return o;
      }
      if (attempt >= 5)
        throw new ApiError(409, 'Conflict', `${r.name} "${route.name}" kept changing while it was deleted`);
    }
  }

  private async markDeleted(route: Route, at: string, grace: number): Promise<KubeObject> {
    const key = this.key(route.resource, route.namespace, route.name!);
    const cur = await this.store.get(key);
    if (!cur) throw notFound(route.resource, route.name!);
    const o = ApiServer.read(cur);
    o.metadata = { ...o.metadata, deletionTimestamp: at, deletionGracePeriodSeconds: grace };
    delete o.metadata.resourceVersion;
    const rev = await this.store.putIf(key, JSON.stringify(o), cur.modRevision);
    if (rev === undefined) return this.delete(route);
    o.metadata.resourceVersion = String(rev);
    this.publish({ type: 'MODIFIED', resource: route.resource, object: o, revision: rev });
    return o;
  }

  /** Events for this route, from after `since` (a list's resourceVersion), then live; returns the stop. */
  watch(route: Route, since: number, on: (e: WatchEvent) => void): () => void {
    const match = (e: WatchEvent) =>
      e.resource === route.resource &&
      (!route.namespace || e.object.metadata?.namespace === route.namespace) &&
      (!route.name || e.object.metadata?.name === route.name);
    for (const e of this.history) if (e.revision > since && match(e)) on(e);
    const w = (e: WatchEvent) => match(e) && on(e);
    this.watchers.add(w);
    return () => this.watchers.delete(w);
  }

  // ---- the timeline's control-plane lane (audit.ts): who each watch event went to ----
  /** Set by the API server's process: each live watch event sent, with its watcher's User-Agent. */
  watchAudit: WatchAudit | undefined;

  private auditWatchEvent(e: WatchEvent, res: ServerResponse): void {
    this.watchAudit?.sent(e, e, e.resource.name, res.req?.headers['user-agent']);
  }

  // ---- HTTP ----

  private discovery(path: string): unknown {
    if (path === '/version') return { ...KUBE_VERSION, goVersion: 'n/a', compiler: 'podnet', platform: 'linux/amd64' };
    if (path === '/api')
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.address }],
      };
    if (path === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups: [] };
    if (path === '/openapi/v3') return { paths: { 'api/v1': { serverRelativeURL: '/openapi/v3/api/v1?hash=podnet' } } };
    if (path === '/openapi/v3/api/v1') return openApiV1();
    if (path === '/api/v1')
      return {
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: RESOURCES.flatMap((r) => [
          {
            name: r.name,
            singularName: r.singular,
            namespaced: r.namespaced,
            kind: r.kind,
            verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
            shortNames: r.shortNames,
          },
          ...(r.name !== 'namespaces'
            ? [
                {
                  name: `${r.name}/status`,
                  singularName: '',
                  namespaced: r.namespaced,
                  kind: r.kind,
                  verbs: ['get', 'patch', 'update'],
                },
              ]
            : []),
        ]),
      };
    return undefined;
  }

  /** /api/v1/[namespaces/NS/]RESOURCE[/NAME[/status]] */
  private route(path: string): Route {
    const parts = path
      .replace(/^\/api\/v1\/?/, '')
      .split('/')
      .filter(Boolean);
    let namespace: string | undefined;
    if (parts[0] === 'namespaces' && parts.length >= 3) {
      namespace = parts[1];
      parts.splice(0, 2);
    }
    const [name_, name, sub, ...rest] = parts;
    const resource = RESOURCES.find((r) => r.name === name_);
    const subOk =
      (sub === 'status' && resource?.name !== 'namespaces') || (sub === 'binding' && resource?.name === 'pods');
    if (!resource || rest.length || (sub !== undefined && !subOk))
      throw new ApiError(
        404,
        'NotFound',
        `the lab's API server does not serve ${path}: it serves ${SUPPORTED} (and pods/status, pods/binding, nodes/status) in v1`,
      );
    if (namespace && !resource.namespaced)
      throw new ApiError(404, 'NotFound', `${resource.name} are not namespaced: ${path} does not exist`);
    return {
      resource,
      ...(namespace ? { namespace } : {}),
      ...(name ? { name } : {}),
      ...(sub === 'status' || sub === 'binding' ? { sub } : {}),
    };
  }

  /** The Table kubectl asks for (Accept: application/json;as=Table;v=v1;g=meta.k8s.io). */
  private table(r: Resource, items: KubeObject[], revision?: string) {
    const now = Date.now();
    return {
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1',
      metadata: revision ? { resourceVersion: revision } : {},
      columnDefinitions: r.columns,
      rows: items.map((o) => ({
        cells: r.cells(o, now),
        object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
      })),
    };
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://apiserver');
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    try {
      let path = url.pathname.replace(/\/+$/, '') || '/';
      const found = req.method === 'GET' ? this.discovery(path) : undefined;
      if (found) return send(200, found);
      let watching = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
      if (path.startsWith('/api/v1/watch/')) {
        watching = true;
        path = path.replace('/api/v1/watch/', '/api/v1/');
      }
      if (path !== '/api/v1' && !path.startsWith('/api/v1/'))
        throw new ApiError(
          404,
          'NotFound',
          `the lab's API server does not serve ${path}: it serves the core group (v1: ${SUPPORTED}); other groups are not modelled`,
        );
      const route = this.route(path);
      // field selectors, as clients send them: metadata.name=NAME (kubectl wait, delete), involvedObject.* (describe)
      const selector = fieldSelector(url.searchParams.get('fieldSelector'));
      const listOne = selector.length > 0;
      const asTable = /as=Table/.test(req.headers.accept ?? '');
      const r = route.resource;
      switch (req.method) {
        case 'GET': {
          if (watching) return this.serveWatch(route, url, asTable, res, selector);
          if (route.name && !listOne) {
            const o = await this.get(route);
            return send(200, asTable ? this.table(r, [o]) : o);
          }
          const listed = await this.list(route);
          const revision = listed.revision;
          const items = listed.items.filter(
            (o) => (!route.name || o.metadata?.name === route.name) && matches(o, selector),
          );
          return send(
            200,
            asTable
              ? this.table(r, items, String(revision))
              : { kind: `${r.kind}List`, apiVersion: 'v1', metadata: { resourceVersion: String(revision) }, items },
          );
        }
        case 'POST':
          if (route.sub === 'binding') return send(201, await this.bind(route, await body(req)));
          if (route.name) throw new ApiError(405, 'MethodNotAllowed', `POST is for the collection, not ${path}`);
          return send(201, await this.create(route, await body(req)));
        case 'PUT':
          if (!route.name) throw new ApiError(405, 'MethodNotAllowed', 'PUT needs an object name');
          return send(200, await this.update(route, await body(req)));
        case 'PATCH': {
          if (!route.name) throw new ApiError(405, 'MethodNotAllowed', 'PATCH needs an object name');
          const type = req.headers['content-type'] ?? '';
          if (!/merge-patch\+json|strategic-merge-patch\+json/.test(type))
            throw new ApiError(
              415,
              'UnsupportedMediaType',
              `the lab's API server takes merge patches (application/merge-patch+json, strategic taken as merge), not ${type || 'no content type'}`,
            );
          return send(200, await this.patch(route, await body(req)));
        }
        case 'DELETE':
          if (!route.name) throw new ApiError(405, 'MethodNotAllowed', 'deleting a whole collection is not modelled');
          return send(
            200,
            await this.delete(route, graceOf(url, req.headers['content-length'] ? await body(req) : undefined)),
          );
        default:
          throw new ApiError(405, 'MethodNotAllowed', `${req.method} is not served`);
      }
    } catch (e) {
      if (e instanceof ApiError) return send(e.code, e.status());
      send(500, new ApiError(500, 'InternalError', `the lab's API server failed: ${(e as Error).message}`).status());
    }
  }

  private async serveWatch(
    route: Route,
    url: URL,
    asTable: boolean,
    res: ServerResponse,
    selector: Selector = [],
  ): Promise<void> {
    let since = Number(url.searchParams.get('resourceVersion') || '0');
    const initial = url.searchParams.get('sendInitialEvents') === 'true';
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    const write = (type: string, o: KubeObject) =>
      res.write(`${JSON.stringify({ type, object: asTable ? this.table(route.resource, [o]) : o })}\n`);
    if (!since || initial) {
      // the current objects first, as ADDED (kube-apiserver's "get state and start at most recent")
      const { items, revision } = await this.list(route);
      const mine = items.filter((o) => (!route.name || o.metadata?.name === route.name) && matches(o, selector));
      for (const o of mine) write('ADDED', o);
      since = revision;
      // a client that asked for the initial events (client-go's WatchList) waits for this bookmark
      if (initial)
        res.write(
          `${JSON.stringify({
            type: 'BOOKMARK',
            object: {
              kind: route.resource.kind,
              apiVersion: 'v1',
              metadata: { resourceVersion: String(revision), annotations: { 'k8s.io/initial-events-end': 'true' } },
            },
          })}\n`,
        );
    }
    const stop = this.watch(route, since, (e) => {
      if (!matches(e.object, selector)) return;
      write(e.type, e.object);
      this.auditWatchEvent(e, res);
    });
    const timeout = Number(url.searchParams.get('timeoutSeconds') ?? '1800');
    const timer = setTimeout(() => res.end(), Math.min(timeout, 3600) * 1000);
    res.on('close', () => {
      stop();
      clearTimeout(timer);
    });
  }
}

/**
 * The core group's OpenAPI v3, as far as kubectl reads it before a create: each write names its kind and
 * takes fieldValidation, so kubectl leaves validation to the server (which refuses what it does not model).
 */
function openApiV1() {
  const gvk = (r: Resource) => ({ group: '', version: 'v1', kind: r.kind });
  const write = (r: Resource, action: string) => ({
    parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } }],
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk(r),
  });
  const paths: Record<string, unknown> = {};
  for (const r of RESOURCES) {
    const base = r.namespaced ? `/api/v1/namespaces/{namespace}/${r.name}` : `/api/v1/${r.name}`;
    paths[base] = { post: write(r, 'post') };
    paths[`${base}/{name}`] = { put: write(r, 'put'), patch: write(r, 'patch') };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: KUBE_VERSION.gitVersion },
    paths,
    components: { schemas: {} },
  };
}

async function body(req: IncomingMessage): Promise<KubeObject> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 3 << 20) throw new ApiError(413, 'RequestEntityTooLarge', 'the request body is over 3 MiB');
    chunks.push(c);
  }
  try {
    const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as KubeObject;
  } catch (e) {
    throw new ApiError(400, 'BadRequest', `the request body is not a JSON object: ${(e as Error).message}`);
  }
}

type Selector = { path: string[]; value: string; equal: boolean }[];

/** A field selector: `a.b=v,c!=w` (== as =); a malformed term is the API's BadRequest. */
function fieldSelector(text: string | null): Selector {
  if (!text) return [];
  return text.split(',').map((term) => {
    const m = /^([A-Za-z.]+)(==|=|!=)(.*)$/.exec(term);
    if (!m) throw new ApiError(400, 'BadRequest', `invalid field selector "${term}": FIELD=VALUE or FIELD!=VALUE`);
    return { path: m[1]!.split('.'), value: m[3]!, equal: m[2] !== '!=' };
  });
}

function matches(o: KubeObject, selector: Selector): boolean {
  return selector.every(({ path, value, equal }) => {
    let v: unknown = o;
    for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
    const s = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
    return (s === value) === equal;
  });
}

/** The grace period a DELETE asks for: ?gracePeriodSeconds=, or DeleteOptions in the body. */
function graceOf(url: URL, opts: KubeObject | undefined): number | undefined {
  const q = url.searchParams.get('gracePeriodSeconds');
  if (q !== null && /^\d+$/.test(q)) return Number(q);
  const b = opts?.gracePeriodSeconds;
  return typeof b === 'number' ? b : undefined;
}

/** RFC 7386: objects merge, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
