// The lab's API server: a model of kube-apiserver that speaks enough of the real REST API for the real
// kubectl 1.36 to work unchanged — discovery, get/list (as the server-side Table kubectl prints), watch,
// create, update, merge patch, delete — over the real etcd. What it does not serve is answered in the
// API's own Status shape, with a message that names what the lab supports.
import { randomBytes, randomUUID } from 'node:crypto';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { EtcdStore, type Stored } from './etcd-store.js';
import type { WatchAudit } from './audit.js';
import { kubeletSocketInWorld } from './kubelet-server.js';
import { LabelSelectorError, labelsMatch, parseLabelSelector, type Requirement } from './label-selector.js';
import {
  apiVersionOf,
  ENDPOINTSLICES,
  RESOURCES,
  serviceDefaults,
  SERVICES,
  type KubeObject,
  type Resource,
} from './resources.js';
import { AllocationError, KUBERNETES_SERVICE_IP, ServiceIPs } from './service-ips.js';
import { decodeProtobufBody, PROTOBUF_KINDS, PROTOBUF_TYPE, ProtobufError, UnreadKindError } from './protobuf.js';
import { strategicMergePatch } from './strategic-merge.js';
import { channelMessage, CHANNEL, frame, handshake, readFrames } from './websocket.js';

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

const CORE = RESOURCES.filter((r) => !r.group);
const SUPPORTED = CORE.map((r) => r.name).join(', ');
/** The API groups served besides the core group, each at v1. */
const GROUPS = [...new Set(RESOURCES.flatMap((r) => (r.group ? [r.group] : [])))];
const SERVED = `the core group (v1: ${SUPPORTED}; and pods/status, pods/binding, nodes/status, services/status) and ${GROUPS.map(
  (g) =>
    `${g}/v1 (${RESOURCES.filter((r) => r.group === g)
      .map((r) => r.name)
      .join(', ')})`,
).join(', ')}`;

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  resource: Resource;
  object: KubeObject;
  revision: number;
  /** A MODIFIED event's object as it was (a selected watch turns a change across its selector into ADDED/DELETED). */
  prev?: KubeObject;
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
  private readonly serviceIPs: ServiceIPs;

  constructor(
    private readonly store: EtcdStore,
    /** Where clients reach it (discovery's serverAddressByClientCIDRs). */
    private readonly address: string,
  ) {
    this.serviceIPs = new ServiceIPs(store);
  }

  /** Creates what a new cluster has: the default, kube-system and kube-public namespaces. */
  async bootstrap(): Promise<void> {
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease'])
      await this.create({ resource: RESOURCES.find((r) => r.name === 'namespaces')! }, { metadata: { name } }).catch(
        (e: unknown) => {
          if (!(e instanceof ApiError && e.code === 409)) throw e;
        },
      );
    await this.bootstrapKubernetesService();
  }

  /**
   * The `kubernetes` Service in default (the range's first address, 443 → the API server's 6443) and its
   * EndpointSlice to this server, as kube-apiserver's own controller keeps them.
   */
  private async bootstrapKubernetesService(): Promise<void> {
    const [host, port] = this.address.split(':') as [string, string];
    const exists = (e: unknown) => {
      if (!(e instanceof ApiError && (e.code === 409 || e.reason === 'Invalid'))) throw e;
    };
    await this.create(
      { resource: SERVICES, namespace: 'default' },
      {
        metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
        spec: {
          clusterIP: KUBERNETES_SERVICE_IP,
          ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: Number(port) }],
        },
      },
    ).catch(exists);
    await this.create(
      { resource: ENDPOINTSLICES, namespace: 'default' },
      {
        metadata: { name: 'kubernetes', labels: { 'kubernetes.io/service-name': 'kubernetes' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: [host], conditions: { ready: true } }],
        ports: [{ name: 'https', port: Number(port), protocol: 'TCP' }],
      },
    ).catch(exists);
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

  /** The API's Invalid: kubectl prints "The Pod "x" is invalid: field: message" from the causes. */
  private static invalid(r: Resource, name: string, errs: string[]): ApiError {
    return new ApiError(422, 'Invalid', `${r.kind} "${name}" is invalid: ${errs.join(', ')}`, {
      name,
      group: r.group ?? '',
      kind: r.kind,
      causes: errs.map((e) => {
        const at = e.indexOf(': ');
        const message = e.slice(at + 2);
        // field.ErrorType's reason, from the message's first words as field.Error words them
        const reason = /^Unsupported value/.test(message)
          ? 'FieldValueNotSupported'
          : /^Required value/.test(message)
            ? 'FieldValueRequired'
            : /^Duplicate value/.test(message)
              ? 'FieldValueDuplicate'
              : /^Too many/.test(message)
                ? 'FieldValueTooMany'
                : 'FieldValueInvalid';
        return { reason, field: e.slice(0, at), message };
      }),
    });
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
    throw ApiServer.invalid(r, o.metadata?.name ?? '', errs);
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
    if (!meta.name && typeof meta.generateName === 'string') meta.name = `${meta.generateName}${generatedSuffix()}`;
    this.check(r, o);
    o.apiVersion = apiVersionOf(r);
    o.kind = r.kind;
    meta.uid = randomUUID();
    meta.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    delete meta.resourceVersion;
    r.defaults?.(o);
    const release = r === SERVICES ? await this.allocateClusterIP(o) : undefined;
    const key = this.key(r, meta.namespace, meta.name!);
    const rev = await this.store.putIf(key, JSON.stringify(o), 0);
    if (rev === undefined && release) await release();
    if (rev === undefined)
      throw new ApiError(409, 'AlreadyExists', `${r.name} "${meta.name}" already exists`, {
        name: meta.name,
        kind: r.name,
      });
    meta.resourceVersion = String(rev);
    this.publish({ type: 'ADDED', resource: r, object: o, revision: rev });
    return o;
  }

  /** Replaces an object (PUT), or its status alone (pods/status); a resourceVersion it gives must be current. */
  async update(route: Route, body: KubeObject): Promise<KubeObject> {
    const given = body.metadata?.resourceVersion;
    return this.guaranteedUpdate(route, (old) => {
      if (given && given !== old.metadata!.resourceVersion) throw ApiServer.modified(route);
      return this.replaced(route, old, body);
    });
  }

  /** A JSON merge patch (RFC 7386), or a strategic merge patch (lists with a merge key merged by element). */
  async patch(route: Route, patch: unknown, strategic = false): Promise<KubeObject> {
    return this.guaranteedUpdate(route, (old) => {
      const merged = (strategic ? strategicMergePatch(old, patch) : mergePatch(old, patch)) as KubeObject;
      // a resourceVersion in the patch is a precondition, as in a replace (the merge keeps the current one otherwise)
      const given = merged.metadata?.resourceVersion;
      if (given !== undefined && given !== old.metadata!.resourceVersion) throw ApiServer.modified(route);
      return this.replaced(route, old, merged);
    });
  }

  /**
   * pods/binding, as the scheduler posts it: the pod gets its node (once: a bound pod is not moved) and the
   * PodScheduled condition in one write, as the real registry's assignPod does; so no watcher (a kubelet)
   * sees a pod on a node whose binding has not yet been answered.
   */
  async bind(route: Route, b: KubeObject): Promise<unknown> {
    const node = (b.target as { name?: string } | undefined)?.name;
    if (!node) throw new ApiError(400, 'BadRequest', 'a binding names its target node (target.name)');
    await this.guaranteedUpdate(route, (old) => {
      const bound = old.spec?.nodeName;
      if (typeof bound === 'string' && bound)
        throw new ApiError(409, 'Conflict', `pod ${route.name} is already assigned to node "${bound}"`);
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const conditions = [
        ...((old.status?.conditions ?? []) as { type: string }[]).filter((c) => c.type !== 'PodScheduled'),
        { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now },
      ];
      return { ...old, spec: { ...old.spec, nodeName: node }, status: { ...old.status, conditions } };
    });
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 };
  }

  /**
   * Every change to a stored object, as the registry's GuaranteedUpdate makes it: read the object, `change` it
   * (which may refuse, by throwing), and write it only if it is still the one read; if it changed meanwhile
   * (a status update from a kubelet), read it again and change that, at most 5 times.
   */
  private async guaranteedUpdate(route: Route, change: (old: KubeObject) => KubeObject): Promise<KubeObject> {
    const r = route.resource;
    const key = this.key(r, route.namespace, route.name!);
    for (let attempt = 0; ; attempt++) {
      const cur = await this.store.get(key);
      if (!cur) throw notFound(r, route.name!);
      const old = ApiServer.read(cur);
      const o = change(old);
      o.metadata = { ...o.metadata };
      delete o.metadata.resourceVersion;
      const rev = await this.store.putIf(key, JSON.stringify(o), cur.modRevision);
      if (rev === undefined) {
        if (attempt >= 5) throw ApiServer.modified(route);
        continue;
      }
      o.metadata.resourceVersion = String(rev);
      this.publish({ type: 'MODIFIED', resource: r, object: o, revision: rev, prev: old });
      return o;
    }
  }

  /** The object an update or a patch leaves: the body's, or the old one with the body's status (pods/status). */
  private replaced(route: Route, old: KubeObject, body: KubeObject): KubeObject {
    const r = route.resource;
    const o: KubeObject =
      route.sub === 'status'
        ? { ...old, status: structuredClone(body.status ?? {}) }
        : { ...structuredClone(body), status: old.status, apiVersion: apiVersionOf(r), kind: r.kind };
    o.metadata = { ...(route.sub === 'status' ? old.metadata : o.metadata), name: old.metadata!.name };
    const kept = o.metadata as Record<string, unknown>;
    for (const k of ['uid', 'creationTimestamp', 'namespace', 'deletionTimestamp'])
      if (old.metadata![k] !== undefined) kept[k] = old.metadata![k];
    if (r === SERVICES && route.sub !== 'status') ApiServer.serviceUpdate(old, o);
    if (route.sub !== 'status') this.check(r, o);
    return o;
  }

  /** What the API server answers an update of an object that is no longer the version it was given. */
  private static modified(route: Route): ApiError {
    return new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${route.resource.name} "${route.name}": the object has been modified; please apply your changes to the latest version and try again`,
      { name: route.name, kind: route.resource.name },
    );
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
        if (r === SERVICES) await this.releaseClusterIP(o);
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

  // ---- Services: the ClusterIP's allocation, immutability and release ----

  /** Allocates a new Service's ClusterIP (the requested one, or the next free); answers its release. */
  private async allocateClusterIP(o: KubeObject): Promise<(() => Promise<void>) | undefined> {
    const spec = o.spec!;
    if (spec.clusterIP === 'None') return undefined;
    const ips = Array.isArray(spec.clusterIPs) ? (spec.clusterIPs as string[]) : [];
    const requested = (typeof spec.clusterIP === 'string' && spec.clusterIP) || ips[0] || undefined;
    let ip: string;
    try {
      ip = await this.serviceIPs.allocate(o, requested);
    } catch (e) {
      if (!(e instanceof AllocationError)) throw e;
      // alloc.go: field.Invalid(spec.clusterIPs, service.Spec.ClusterIPs, "failed to allocate IP …"), Go's %#v of the list
      const list = `[]string{${(ips.length ? ips : [requested]).map((x) => `"${x}"`).join(', ')}}`;
      throw ApiServer.invalid(SERVICES, o.metadata?.name ?? '', [
        `spec.clusterIPs: Invalid value: ${list}: ${e.message}`,
      ]);
    }
    spec.clusterIP = ip;
    spec.clusterIPs = [ip];
    return () => this.serviceIPs.release(ip);
  }

  private async releaseClusterIP(o: KubeObject): Promise<void> {
    const ip = o.spec?.clusterIP;
    if (typeof ip === 'string' && ip && ip !== 'None') await this.serviceIPs.release(ip).catch(() => {});
  }

  /** An update keeps the ClusterIP it leaves out (as the registry's patchAllocatedValues), and may not change it. */
  private static serviceUpdate(old: KubeObject, o: KubeObject): void {
    const spec = (o.spec ??= {});
    const was = (old.spec?.clusterIPs ?? []) as string[];
    const ips = Array.isArray(spec.clusterIPs) ? (spec.clusterIPs as string[]) : [];
    if (!spec.clusterIP && !ips.length) {
      spec.clusterIP = old.spec?.clusterIP;
      spec.clusterIPs = was;
    } else if (!ips.length || (spec.clusterIP && spec.clusterIP !== ips[0] && was[0] === ips[0]))
      // clusterIP alone was changed: the new one stands for the list (normalizeClusterIPs)
      spec.clusterIPs = [spec.clusterIP];
    else if (!spec.clusterIP) spec.clusterIP = ips[0];
    serviceDefaults(o);
    const now = spec.clusterIPs as string[];
    if (was.length && now.length && was[0] !== now[0])
      throw ApiServer.invalid(SERVICES, o.metadata?.name ?? '', [
        `spec.clusterIPs[0]: Invalid value: []string{${now.map((x) => `"${x}"`).join(', ')}}: may not change once set`,
      ]);
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
    const group = groupDiscovery(path);
    if (group) return group;
    if (path === '/openapi/v3')
      return {
        paths: Object.fromEntries(
          ['api/v1', ...GROUPS.map((g) => `apis/${g}/v1`)].map((p) => [
            p,
            { serverRelativeURL: `/openapi/v3/${p}?hash=podnet` },
          ]),
        ),
      };
    if (path === '/openapi/v3/api/v1') return openApiV1('');
    const openapi = /^\/openapi\/v3\/apis\/([^/]+)\/v1$/.exec(path);
    if (openapi && GROUPS.includes(openapi[1]!)) return openApiV1(openapi[1]!);
    if (path === '/api/v1')
      return {
        kind: 'APIResourceList',
        groupVersion: 'v1',
        resources: CORE.flatMap((r) => [
          {
            name: r.name,
            singularName: r.singular,
            namespaced: r.namespaced,
            kind: r.kind,
            verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
            shortNames: r.shortNames,
            ...(r.categories ? { categories: r.categories } : {}),
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

  /** /api/v1/[namespaces/NS/]RESOURCE[/NAME[/status]], and /apis/GROUP/v1/… for the groups served */
  private route(path: string): Route {
    const group = /^\/apis\/([^/]+)\/v1/.exec(path)?.[1] ?? '';
    const parts = path
      .replace(/^\/api\/v1\/?|^\/apis\/[^/]+\/v1\/?/, '')
      .split('/')
      .filter(Boolean);
    let namespace: string | undefined;
    if (parts[0] === 'namespaces' && parts.length >= 3) {
      namespace = parts[1];
      parts.splice(0, 2);
    }
    const [name_, name, sub, ...rest] = parts;
    const resource = RESOURCES.find((r) => r.name === name_ && (r.group ?? '') === group);
    const subOk =
      (sub === 'status' && resource?.name !== 'namespaces' && resource?.name !== 'endpointslices') ||
      (sub === 'binding' && resource?.name === 'pods');
    if (!resource || rest.length || (sub !== undefined && !subOk))
      throw new ApiError(404, 'NotFound', `the lab's API server does not serve ${path}: it serves ${SERVED}`);
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
      const base = /^(\/api\/v1|\/apis\/([^/]+)\/v1)(\/watch)?(\/.*)?$/.exec(path);
      if (base?.[3]) {
        watching = true;
        path = `${base[1]}${base[4] ?? ''}`;
      }
      if (!base || (base[2] !== undefined && !GROUPS.includes(base[2])))
        throw new ApiError(
          404,
          'NotFound',
          `the lab's API server does not serve ${path}: it serves ${SERVED}; other groups are not modelled`,
        );
      const podSub = POD_STREAM.exec(path);
      if (podSub) return await this.podStream(req, res, url, podSub[1]!, podSub[2]!, podSub[3]!);
      const route = this.route(path);
      // field selectors, as clients send them: metadata.name=NAME (kubectl wait, delete), involvedObject.* (describe)
      const selector = fieldSelector(url.searchParams.get('fieldSelector'));
      const labels = labelSelector(url.searchParams.get('labelSelector'));
      const listOne = selector.length > 0;
      const asTable = /as=Table/.test(req.headers.accept ?? '');
      const r = route.resource;
      switch (req.method) {
        case 'GET': {
          if (watching) return this.serveWatch(route, url, asTable, res, selector, labels);
          if (route.name && !listOne) {
            const o = await this.get(route);
            return send(200, asTable ? this.table(r, [o]) : o);
          }
          const listed = await this.list(route);
          const revision = listed.revision;
          const items = listed.items.filter(
            (o) =>
              (!route.name || o.metadata?.name === route.name) &&
              matches(o, selector) &&
              labelsMatch(o.metadata?.labels, labels),
          );
          return send(
            200,
            asTable
              ? this.table(r, items, String(revision))
              : {
                  kind: `${r.kind}List`,
                  apiVersion: apiVersionOf(r),
                  metadata: { resourceVersion: String(revision) },
                  items,
                },
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
              `the lab's API server takes merge patches (application/merge-patch+json) and strategic merge patches, not ${type || 'no content type'}`,
            );
          return send(200, await this.patch(route, await body(req), /strategic-merge-patch/.test(type)));
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

  // ---- pods/log and pods/exec: the API server's proxy to the pod's kubelet ----

  /**
   * pods/log is proxied to the kubelet of the pod's node (kube-apiserver → kubelet :10250 /containerLogs;
   * here the kubelet's socket in the world's state folder); pods/exec, attach and portforward are refused.
   */
  private async podStream(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    namespace: string,
    name: string,
    sub: string,
  ): Promise<void> {
    if (sub !== 'log')
      throw new ApiError(
        400,
        'BadRequest',
        sub === 'exec'
          ? "the lab's API server serves pods/exec over WebSocket (v5.channel.k8s.io), as kubectl 1.36 asks for it"
          : `the lab's API server does not serve pods/${sub} (kubectl ${sub}): open the pod's terminal instead (the pod's node in the app, or \`podnet lab shell\`); pods/log and pods/exec are served`,
      );
    if (req.method !== 'GET')
      throw new ApiError(405, 'MethodNotAllowed', `pods/log is read with GET, not ${req.method}`);
    const pod = await this.get({ resource: RESOURCES.find((r) => r.name === 'pods')!, namespace, name });
    const names = ((pod.spec?.containers ?? []) as { name: string }[]).map((c) => c.name);
    const container = url.searchParams.get('container') || (names.length === 1 ? names[0]! : '');
    if (!container)
      throw new ApiError(
        400,
        'BadRequest',
        `a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`,
      );
    if (!names.includes(container))
      throw new ApiError(400, 'BadRequest', `container ${container} is not valid for pod ${name}`);
    const node = pod.spec?.nodeName;
    const statuses = (pod.status?.containerStatuses ?? []) as { name: string }[];
    if (typeof node !== 'string' || !statuses.some((s) => s.name === container))
      throw new ApiError(
        400,
        'BadRequest',
        `container "${container}" in pod "${name}" is waiting to start: ContainerCreating`,
      );
    const q = new URLSearchParams();
    for (const k of ['follow', 'tailLines', 'timestamps', 'previous'])
      if (url.searchParams.has(k)) q.set(k, url.searchParams.get(k)!);
    const path = `/containerLogs/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}?${q}`;
    await new Promise<void>((resolve, reject) => {
      const up = request({ socketPath: kubeletSocketInWorld(node), method: 'GET', path }, (kr) => {
        if ((kr.statusCode ?? 500) >= 400) {
          let text = '';
          kr.setEncoding('utf8');
          kr.on('data', (d: string) => (text += d));
          kr.on('end', () =>
            reject(
              new ApiError(
                kr.statusCode === 404 ? 404 : 400,
                kr.statusCode === 404 ? 'NotFound' : 'BadRequest',
                text.trim(),
              ),
            ),
          );
          return;
        }
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
        kr.pipe(res);
        kr.on('end', resolve);
      });
      up.on('error', (e) => {
        // once the log has begun, a broken stream just ends it (kubectl prints what came)
        if (res.headersSent) return resolve(void res.end());
        reject(
          new ApiError(500, 'InternalError', `the kubelet on ${node} cannot be reached for the log: ${e.message}`),
        );
      });
      // kubectl logs -f ending (Ctrl-C) ends the kubelet's stream too
      res.on('close', () => up.destroy());
      up.end();
    });
  }

  /**
   * pods/exec over WebSocket (kubectl 1.36: v5.channel.k8s.io), proxied to the pod's kubelet. Without a
   * terminal: `kubectl exec POD -- CMD` and `kubectl exec -i`; `-t` is refused (the pod's terminal has one).
   */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const refuse = (e: ApiError) => {
      const body = JSON.stringify(e.status());
      socket.end(
        `HTTP/1.1 ${e.code} ${e.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    };
    socket.on('error', () => {});
    try {
      const url = new URL(req.url ?? '/', 'http://apiserver');
      const m = POD_STREAM.exec(url.pathname.replace(/\/+$/, ''));
      if (!m || m[3] !== 'exec')
        throw new ApiError(400, 'BadRequest', `the lab's API server upgrades pods/exec only, not ${url.pathname}`);
      const [, namespace, name] = m as unknown as [string, string, string];
      const offered = String(req.headers['sec-websocket-protocol'] ?? '')
        .split(',')
        .map((p) => p.trim());
      const protocol = ['v5.channel.k8s.io', 'v4.channel.k8s.io'].find((p) => offered.includes(p));
      const key = req.headers['sec-websocket-key'];
      if (!/websocket/i.test(String(req.headers.upgrade)) || !key || !protocol)
        throw new ApiError(
          400,
          'BadRequest',
          "the lab's API server serves pods/exec over WebSocket (v5.channel.k8s.io or v4.channel.k8s.io), not SPDY",
        );
      const q = url.searchParams;
      if (q.get('tty') === 'true')
        throw new ApiError(
          400,
          'BadRequest',
          "the lab's exec has no terminal (-t): run `kubectl exec POD -- CMD`, or `kubectl exec -i`, or open the pod's terminal",
        );
      const pod = await this.get({ resource: RESOURCES.find((r) => r.name === 'pods')!, namespace, name });
      const names = ((pod.spec?.containers ?? []) as { name: string }[]).map((c) => c.name);
      const container = q.get('container') || (names.length === 1 ? names[0]! : '');
      if (!names.includes(container))
        throw new ApiError(400, 'BadRequest', `container ${container || '(none)'} is not valid for pod ${name}`);
      const node = pod.spec?.nodeName;
      if (typeof node !== 'string' || pod.status?.phase !== 'Running')
        throw new ApiError(400, 'BadRequest', `unable to upgrade connection: pod ${name} is not running`);
      const command = q.getAll('command');
      socket.write(handshake(String(key), protocol));
      const kq = new URLSearchParams(command.map((c) => ['command', c]));
      const path = `/exec/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}?${kq}`;
      const status = (code: number | undefined, message?: string) =>
        code === 0
          ? { metadata: {}, status: 'Success' }
          : {
              metadata: {},
              status: 'Failure',
              message:
                message ??
                `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
              reason: message ? 'InternalError' : 'NonZeroExitCode',
              ...(message ? {} : { details: { causes: [{ reason: 'ExitCode', message: String(code) }] } }),
            };
      const finish = (s: unknown) => {
        socket.write(channelMessage(CHANNEL.error, JSON.stringify(s)));
        socket.end(frame(8, Buffer.from([0x03, 0xe8])));
      };
      const up = request({ socketPath: kubeletSocketInWorld(node), method: 'POST', path }, (kr) => {
        let buf = '';
        kr.setEncoding('utf8');
        kr.on('data', (d: string) => {
          buf += d;
          for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
            const line = buf.slice(0, i);
            buf = buf.slice(i + 1);
            if ((kr.statusCode ?? 500) >= 400) continue;
            const e = JSON.parse(line) as { s?: number; d?: string; exit?: number; error?: string };
            if (e.s) socket.write(channelMessage(e.s, Buffer.from(e.d ?? '', 'base64')));
            else if (e.error !== undefined) finish(status(1, e.error));
            else if (e.exit !== undefined) finish(status(e.exit));
          }
        });
        kr.on('end', () => {
          if ((kr.statusCode ?? 500) >= 400) finish(status(1, buf.trim() || `the kubelet answered ${kr.statusCode}`));
        });
      });
      up.on('error', (e) => finish(status(1, `the kubelet on ${node} cannot be reached: ${e.message}`)));
      if (q.get('stdin') !== 'true') up.end();
      readFrames(socket, head, (opcode, payload) => {
        if (opcode === 8) return up.destroy();
        if (opcode === 9) return void socket.write(frame(10, payload));
        if (opcode !== 2 && opcode !== 1) return;
        const ch = payload[0];
        if (ch === CHANNEL.stdin && !up.writableEnded) up.write(payload.subarray(1));
        // v5: closing stdin is a message on channel 255 naming the stream
        else if (ch === CHANNEL.close && payload[1] === CHANNEL.stdin && !up.writableEnded) up.end();
      });
      socket.on('close', () => up.destroy());
    } catch (e) {
      refuse(
        e instanceof ApiError
          ? e
          : new ApiError(500, 'InternalError', `the lab's API server failed: ${(e as Error).message}`),
      );
    }
  }

  private async serveWatch(
    route: Route,
    url: URL,
    asTable: boolean,
    res: ServerResponse,
    selector: Selector = [],
    labels: Requirement[] = [],
  ): Promise<void> {
    let since = Number(url.searchParams.get('resourceVersion') || '0');
    const initial = url.searchParams.get('sendInitialEvents') === 'true';
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    const write = (type: string, o: KubeObject) =>
      res.write(`${JSON.stringify({ type, object: asTable ? this.table(route.resource, [o]) : o })}\n`);
    if (!since || initial) {
      // the current objects first, as ADDED (kube-apiserver's "get state and start at most recent")
      const { items, revision } = await this.list(route);
      const mine = items.filter(
        (o) =>
          (!route.name || o.metadata?.name === route.name) &&
          matches(o, selector) &&
          labelsMatch(o.metadata?.labels, labels),
      );
      for (const o of mine) write('ADDED', o);
      since = revision;
      // a client that asked for the initial events (client-go's WatchList) waits for this bookmark
      if (initial)
        res.write(
          `${JSON.stringify({
            type: 'BOOKMARK',
            object: {
              kind: route.resource.kind,
              apiVersion: apiVersionOf(route.resource),
              metadata: { resourceVersion: String(revision), annotations: { 'k8s.io/initial-events-end': 'true' } },
            },
          })}\n`,
        );
    }
    const selected = (o: KubeObject) => matches(o, selector) && labelsMatch(o.metadata?.labels, labels);
    const stop = this.watch(route, since, (e) => {
      const now = selected(e.object);
      // the watch cache's filter: a change that leaves the selection is DELETED, one that enters it ADDED
      const was = e.type === 'MODIFIED' && e.prev ? selected(e.prev) : now;
      if (now && was) write(e.type, e.object);
      else if (now) write('ADDED', e.object);
      else if (was) write('DELETED', e.object);
      if (now || was) this.auditWatchEvent(e, res);
    });
    const timeout = Number(url.searchParams.get('timeoutSeconds') ?? '1800');
    const timer = setTimeout(() => res.end(), Math.min(timeout, 3600) * 1000);
    res.on('close', () => {
      stop();
      clearTimeout(timer);
    });
  }
}

/** /api/v1/namespaces/NS/pods/NAME/{log,exec,attach,portforward}: streamed from the kubelet, not the store. */
const POD_STREAM = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(log|exec|attach|portforward)$/;

/**
 * The core group's OpenAPI v3, as far as kubectl reads it before a create: each write names its kind and
 * takes fieldValidation, so kubectl leaves validation to the server (which refuses what it does not model).
 */
function openApiV1(group: string) {
  const gvk = (r: Resource) => ({ group, version: 'v1', kind: r.kind });
  const write = (r: Resource, action: string) => ({
    parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } }],
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvk(r),
  });
  const paths: Record<string, unknown> = {};
  const prefix = group ? `/apis/${group}/v1` : '/api/v1';
  for (const r of RESOURCES.filter((x) => (x.group ?? '') === group)) {
    const base = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.name}` : `${prefix}/${r.name}`;
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

/** generateName's five characters, from apimachinery's alphabet (no vowels, no look-alikes). */
function generatedSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return Array.from(randomBytes(5), (b) => alphabet[b % alphabet.length]).join('');
}

/** /apis, /apis/GROUP and /apis/GROUP/v1: legacy (unaggregated) discovery of the groups besides the core. */
function groupDiscovery(path: string): unknown {
  const version = (g: string) => ({ groupVersion: `${g}/v1`, version: 'v1' });
  const group = (g: string) => ({ name: g, versions: [version(g)], preferredVersion: version(g) });
  if (path === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups: GROUPS.map(group) };
  const m = /^\/apis\/([^/]+)(\/v1)?$/.exec(path);
  if (!m || !GROUPS.includes(m[1]!)) return undefined;
  if (!m[2]) return { kind: 'APIGroup', apiVersion: 'v1', ...group(m[1]!) };
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: `${m[1]}/v1`,
    resources: RESOURCES.filter((r) => r.group === m[1]).map((r) => ({
      name: r.name,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
    })),
  };
}

/** A label selector (`?labelSelector=`); a malformed one is the API's BadRequest. */
function labelSelector(text: string | null): Requirement[] {
  try {
    return parseLabelSelector(text);
  } catch (e) {
    if (e instanceof LabelSelectorError) throw new ApiError(400, 'BadRequest', e.message);
    throw e;
  }
}

async function body(req: IncomingMessage): Promise<KubeObject> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const protobuf = type === PROTOBUF_TYPE;
  // JSON (and its patch kinds) and kubectl's protobuf are read; anything else is the API's 415, as kube-apiserver's
  if (!protobuf && type && !/^application\/([\w.-]+\+)?json$/.test(type))
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the lab's API server reads application/json and ${PROTOBUF_TYPE} (${PROTOBUF_KINDS.join(', ')}) request bodies, not ${type}`,
    );
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 3 << 20) throw new ApiError(413, 'RequestEntityTooLarge', 'the request body is over 3 MiB');
    chunks.push(c);
  }
  if (protobuf)
    try {
      return decodeProtobufBody(Buffer.concat(chunks));
    } catch (e) {
      if (e instanceof UnreadKindError) throw new ApiError(415, 'UnsupportedMediaType', e.message);
      if (e instanceof ProtobufError)
        throw new ApiError(400, 'BadRequest', `the request body is not a well-formed protobuf object: ${e.message}`);
      throw e;
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
