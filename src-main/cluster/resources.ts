// The kinds the lab's API server serves, as kube-apiserver names and stores them: the REST resource,
// the etcd key (nodes live under /registry/minions, as they do in kube-apiserver), discovery's entry,
// the defaults a create fills in, and the columns `kubectl get` prints (the server's Table).
import { isIPv4, isIPv6, SERVICE_CIDR } from './service-ips.js';

export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata?: Record<string, unknown> & {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    labels?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [k: string]: unknown;
};

export interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  format?: string;
  description: string;
  /** 0: always printed; 1: with -o wide. */
  priority: 0 | 1;
}

export interface Resource {
  /** The REST name: pods. */
  name: string;
  /** The API group: absent for the core group (v1), discovery.k8s.io for EndpointSlices. */
  group?: string;
  /** Discovery's categories: `kubectl get all` lists the kinds in "all". */
  categories?: string[];
  kind: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  /** The etcd prefix, kube-apiserver's: /registry/pods/. */
  registry: string;
  /** The spec fields the lab models: any other is refused, naming these. */
  specFields?: readonly string[];
  columns: Column[];
  cells: (o: KubeObject, now: number) => unknown[];
  /** Fills what a create leaves out, as the real defaulting and registry strategy do. */
  defaults?: (o: KubeObject) => void;
  /** Checks a create: the message of each field error (the API's Invalid). */
  validate?: (o: KubeObject) => string[];
}

/** The apiVersion of a resource's objects: v1, or GROUP/v1. */
export const apiVersionOf = (r: Resource): string => (r.group ? `${r.group}/v1` : 'v1');

/** Age as kubectl prints it (translateTimestampSince): 45s, 3m20s, 5h, 2d. */
export function age(ts: unknown, now: number): string {
  if (typeof ts !== 'string') return '<unknown>';
  const s = Math.max(0, Math.floor((now - Date.parse(ts)) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

const nameColumn: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace.',
  priority: 0,
};
const ageColumn: Column = {
  name: 'Age',
  type: 'string',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  priority: 0,
};

type Condition = { type?: string; status?: string };
const conditionsOf = (o: KubeObject) => (Array.isArray(o.status?.conditions) ? o.status.conditions : []) as Condition[];
type ContainerStatus = {
  ready?: boolean;
  restartCount?: number;
  state?: {
    waiting?: { reason?: string };
    running?: unknown;
    terminated?: { reason?: string; exitCode?: number; signal?: number };
  };
};

/**
 * The STATUS column as kubectl's pod printer makes it (printers.go printPod): the phase, or the pod's
 * reason; then the last container's waiting or terminated reason (ContainerCreating, Completed, Error);
 * Terminating while a deleted pod has not ended.
 */
function podStatus(o: KubeObject): string {
  const phase = typeof o.status?.phase === 'string' ? o.status.phase : 'Pending';
  let reason = typeof o.status?.reason === 'string' && o.status.reason ? o.status.reason : phase;
  const statuses = (Array.isArray(o.status?.containerStatuses) ? o.status.containerStatuses : []) as ContainerStatus[];
  let running = false;
  for (const c of [...statuses].reverse()) {
    const { waiting, terminated } = c.state ?? {};
    if (waiting?.reason) reason = waiting.reason;
    else if (terminated?.reason) reason = terminated.reason;
    else if (terminated)
      reason = terminated.signal ? `Signal:${terminated.signal}` : `ExitCode:${terminated.exitCode ?? 0}`;
    else if (c.ready && c.state?.running) running = true;
  }
  // a container still running after another completed: Running, or NotReady without the Ready condition
  if (reason === 'Completed' && running) {
    reason = conditionsOf(o).some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
  }
  if (o.metadata?.deletionTimestamp && phase !== 'Succeeded' && phase !== 'Failed') return 'Terminating';
  return reason;
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function nameErrors(o: KubeObject, label: boolean): string[] {
  const name = o.metadata?.name;
  if (!name) return ['metadata.name: Required value: name or generateName is required'];
  const re = label ? DNS1123_LABEL : DNS1123_SUBDOMAIN;
  if (!re.test(name) || name.length > (label ? 63 : 253))
    return [
      `metadata.name: Invalid value: "${name}": a lowercase RFC 1123 ${label ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters${label ? '' : ", '-' or '.'"}${label ? " or '-'" : ''}, and must start and end with an alphanumeric character`,
    ];
  return [];
}

/** The pod spec fields this lab's kubelet acts on; any other would be silently ignored, so it is refused. */
export const POD_SPEC_FIELDS = [
  'containers',
  'initContainers',
  'nodeName',
  'nodeSelector',
  'tolerations',
  'hostNetwork',
  'dnsPolicy',
  'dnsConfig',
  'restartPolicy',
  'terminationGracePeriodSeconds',
  'schedulerName',
  'enableServiceLinks',
  'securityContext',
  'priority',
  'preemptionPolicy',
] as const;

// ---- containers: the fields this lab's kubelet acts on (the rest is refused, as a pod spec field is) ----

/** The container fields the lab's kubelet acts on (or that the API fills in and it honours). */
export const CONTAINER_FIELDS = [
  'name',
  'image',
  'imagePullPolicy',
  'command',
  'args',
  'env',
  'ports',
  'readinessProbe',
  'lifecycle',
  'resources',
  'terminationMessagePath',
  'terminationMessagePolicy',
] as const;

/** Why a container field is refused, where there is more to say than "not modelled". */
const CONTAINER_FIELD_WHY: Record<string, string> = {
  livenessProbe:
    "this lab's kubelet does not restart containers, so it runs no liveness probe (readinessProbe is modelled)",
  startupProbe:
    "this lab's kubelet does not restart containers, so it runs no startup probe (readinessProbe is modelled)",
};

const PROBE_FIELDS = [
  'httpGet',
  'tcpSocket',
  'exec',
  'initialDelaySeconds',
  'periodSeconds',
  'timeoutSeconds',
  'successThreshold',
  'failureThreshold',
];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** A probe's or a hook's handler: exactly one of those the lab runs. */
function handlerErrors(at: string, h: Obj, kinds: readonly string[], ports: Obj[]): string[] {
  const named = (['httpGet', 'tcpSocket', 'exec', 'grpc', 'sleep'] as const).filter((k) => h[k] !== undefined);
  if (named.length !== 1)
    return [`${at}: Required value: must specify exactly one handler (this lab runs ${kinds.join(', ')})`];
  const k = named[0]!;
  if (!kinds.includes(k))
    return [`${at}.${k}: this lab's kubelet does not model this handler (it runs ${kinds.join(', ')})`];
  const v = h[k];
  if (!isObj(v)) return [`${at}.${k}: Invalid value: an object`];
  const errs: string[] = [];
  if (k === 'exec' && (!Array.isArray(v.command) || !v.command.length)) errs.push(`${at}.exec.command: Required value`);
  if (k === 'sleep' && !(Number.isInteger(v.seconds) && (v.seconds as number) >= 0))
    errs.push(`${at}.sleep.seconds: Invalid value: a whole number of seconds`);
  if (k === 'httpGet' || k === 'tcpSocket') {
    const port = v.port;
    const byName = typeof port === 'string' && !/^\d+$/.test(port);
    if (byName && !ports.some((p) => p.name === port))
      errs.push(`${at}.${k}.port: Invalid value: "${port}": not one of the container's named ports`);
    else if (!byName && !(Number(port) >= 1 && Number(port) <= 65535))
      errs.push(`${at}.${k}.port: Invalid value: ${JSON.stringify(port)}: must be between 1 and 65535, inclusive`);
    if (k === 'httpGet' && v.scheme !== undefined && v.scheme !== 'HTTP')
      errs.push(`${at}.httpGet.scheme: this lab's kubelet probes over HTTP only`);
  }
  return errs;
}

/** A container's fields: those the lab models, a readinessProbe it can run, a preStop hook it can run. */
export function containerErrors(c: Obj, at: string): string[] {
  const errs: string[] = [];
  for (const f of Object.keys(c))
    if (!(CONTAINER_FIELDS as readonly string[]).includes(f))
      errs.push(
        `${at}.${f}: ${CONTAINER_FIELD_WHY[f] ?? `this lab's kubelet does not model this field (a container here may have: ${CONTAINER_FIELDS.join(', ')})`}`,
      );
  const ports = (Array.isArray(c.ports) ? c.ports : []) as Obj[];
  if (c.env !== undefined)
    (Array.isArray(c.env) ? c.env : [null]).forEach((e: unknown, i) => {
      if (!isObj(e) || typeof e.name !== 'string') errs.push(`${at}.env[${i}].name: Required value`);
      else if (e.valueFrom !== undefined)
        errs.push(`${at}.env[${i}].valueFrom: this lab's kubelet does not model this field (env here has value only)`);
    });
  if (isObj(c.resources) && Object.keys(c.resources).length)
    errs.push(`${at}.resources: this lab's kubelet does not model requests or limits (leave resources empty)`);
  const probe = c.readinessProbe;
  if (probe !== undefined) {
    if (!isObj(probe)) errs.push(`${at}.readinessProbe: Invalid value: an object`);
    else {
      for (const f of Object.keys(probe))
        if (!PROBE_FIELDS.includes(f) && f !== 'grpc')
          errs.push(
            `${at}.readinessProbe.${f}: this lab's kubelet does not model this field (a probe here may have: ${PROBE_FIELDS.join(', ')})`,
          );
      errs.push(...handlerErrors(`${at}.readinessProbe`, probe, ['httpGet', 'tcpSocket', 'exec'], ports));
      for (const [f, min] of [
        ['initialDelaySeconds', 0],
        ['periodSeconds', 1],
        ['timeoutSeconds', 1],
        ['successThreshold', 1],
        ['failureThreshold', 1],
      ] as const)
        if (probe[f] !== undefined && !(Number.isInteger(probe[f]) && (probe[f] as number) >= min))
          errs.push(
            `${at}.readinessProbe.${f}: Invalid value: ${JSON.stringify(probe[f])}: must be a whole number, at least ${min}`,
          );
    }
  }
  const lc = c.lifecycle;
  if (lc !== undefined) {
    if (!isObj(lc)) errs.push(`${at}.lifecycle: Invalid value: an object`);
    else {
      for (const f of Object.keys(lc))
        if (f !== 'preStop') errs.push(`${at}.lifecycle.${f}: this lab's kubelet runs preStop hooks only`);
      if (lc.preStop !== undefined)
        errs.push(
          ...(isObj(lc.preStop)
            ? handlerErrors(`${at}.lifecycle.preStop`, lc.preStop, ['exec', 'httpGet', 'sleep'], ports)
            : [`${at}.lifecycle.preStop: Invalid value: an object`]),
        );
    }
  }
  return errs;
}

/** The API's defaults for a probe (SetDefaults_Probe, SetDefaults_HTTPGetAction). */
function defaultProbe(p: unknown): void {
  if (!isObj(p)) return;
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  p.initialDelaySeconds ??= 0;
  if (isObj(p.httpGet)) {
    p.httpGet.path ??= '/';
    p.httpGet.scheme ??= 'HTTP';
  }
}

export const PODS: Resource = {
  name: 'pods',
  kind: 'Pod',
  singular: 'pod',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  registry: '/registry/pods/',
  specFields: POD_SPEC_FIELDS,
  columns: [
    nameColumn,
    {
      name: 'Ready',
      type: 'string',
      description: 'The aggregate readiness state of this pod for accepting traffic.',
      priority: 0,
    },
    { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.', priority: 0 },
    {
      name: 'Restarts',
      type: 'string',
      description: 'The number of times the containers in this pod have been restarted.',
      priority: 0,
    },
    ageColumn,
    {
      name: 'IP',
      type: 'string',
      description: 'IP address allocated to the pod. Routable at least within the cluster.',
      priority: 1,
    },
    {
      name: 'Node',
      type: 'string',
      description: 'NodeName is a request to schedule this pod onto a specific node.',
      priority: 1,
    },
    {
      name: 'Nominated Node',
      type: 'string',
      description: 'nominatedNodeName is set when this pod preempts other pods on the node.',
      priority: 1,
    },
    {
      name: 'Readiness Gates',
      type: 'string',
      description: 'If specified, all readiness gates will be evaluated for pod readiness.',
      priority: 1,
    },
  ],
  cells: (o, now) => {
    const containers = Array.isArray(o.spec?.containers) ? o.spec.containers : [];
    const statuses = (
      Array.isArray(o.status?.containerStatuses) ? o.status.containerStatuses : []
    ) as ContainerStatus[];
    const ready = statuses.filter((s) => s.ready).length;
    const restarts = statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
    return [
      o.metadata?.name,
      `${ready}/${containers.length}`,
      podStatus(o),
      String(restarts),
      age(o.metadata?.creationTimestamp, now),
      typeof o.status?.podIP === 'string' ? o.status.podIP : '<none>',
      typeof o.spec?.nodeName === 'string' ? o.spec.nodeName : '<none>',
      '<none>',
      '<none>',
    ];
  },
  defaults: (o) => {
    const spec = (o.spec ??= {});
    spec.restartPolicy ??= 'Always';
    spec.dnsPolicy ??= 'ClusterFirst';
    spec.terminationGracePeriodSeconds ??= 30;
    spec.schedulerName ??= 'default-scheduler';
    spec.enableServiceLinks ??= true;
    spec.securityContext ??= {};
    spec.priority ??= 0;
    spec.preemptionPolicy ??= 'PreemptLowerPriority';
    // the DefaultTolerationSeconds admission plugin: 300 s on a NotReady or unreachable node
    const tolerations = (Array.isArray(spec.tolerations) ? spec.tolerations : []) as Record<string, unknown>[];
    for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'])
      if (!tolerations.some((t) => t.key === key))
        tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
    spec.tolerations = tolerations;
    for (const c of (Array.isArray(spec.containers) ? spec.containers : []) as Record<string, unknown>[]) {
      c.imagePullPolicy ??= typeof c.image === 'string' && /:latest$|^[^:]*$/.test(c.image) ? 'Always' : 'IfNotPresent';
      c.terminationMessagePath ??= '/dev/termination-log';
      c.terminationMessagePolicy ??= 'File';
      c.resources ??= {};
      defaultProbe(c.readinessProbe);
      if (isObj(c.lifecycle) && isObj(c.lifecycle.preStop) && isObj(c.lifecycle.preStop.httpGet))
        c.lifecycle.preStop.httpGet.scheme ??= 'HTTP';
    }
    o.status = { phase: 'Pending', qosClass: 'BestEffort' };
  },
  validate: (o) => {
    const errs = nameErrors(o, false);
    const containers = o.spec?.containers;
    if (!Array.isArray(containers) || containers.length === 0) errs.push('spec.containers: Required value');
    else
      containers.forEach((c: Record<string, unknown>, i) => {
        if (typeof c?.name !== 'string' || !DNS1123_LABEL.test(c.name))
          errs.push(`spec.containers[${i}].name: Required value: a DNS-1123 label`);
        if (typeof c?.image !== 'string' || !c.image) errs.push(`spec.containers[${i}].image: Required value`);
        if (isObj(c)) errs.push(...containerErrors(c, `spec.containers[${i}]`));
      });
    const inits = o.spec?.initContainers;
    if (Array.isArray(inits))
      inits.forEach((c: unknown, i) => {
        if (!isObj(c)) return errs.push(`spec.initContainers[${i}]: Invalid value: an object`);
        for (const f of ['readinessProbe', 'lifecycle'])
          if (c[f] !== undefined)
            errs.push(`spec.initContainers[${i}].${f}: Forbidden: may not be set for init containers`);
        errs.push(
          ...containerErrors(c, `spec.initContainers[${i}]`).filter((e) => !/\.(readinessProbe|lifecycle)/.test(e)),
        );
      });
    return errs;
  },
};

export const NODES: Resource = {
  name: 'nodes',
  kind: 'Node',
  singular: 'node',
  namespaced: false,
  shortNames: ['no'],
  registry: '/registry/minions/',
  columns: [
    nameColumn,
    { name: 'Status', type: 'string', description: 'The status of the node', priority: 0 },
    { name: 'Roles', type: 'string', description: 'The roles of the node', priority: 0 },
    ageColumn,
    { name: 'Version', type: 'string', description: 'Kubelet Version reported by the node.', priority: 0 },
    { name: 'Internal-IP', type: 'string', description: 'List of addresses reachable to the node.', priority: 1 },
    { name: 'External-IP', type: 'string', description: 'List of addresses reachable to the node.', priority: 1 },
    {
      name: 'OS-Image',
      type: 'string',
      description: 'OS Image reported by the node from /etc/os-release.',
      priority: 1,
    },
    {
      name: 'Kernel-Version',
      type: 'string',
      description: "Kernel Version reported by the node from 'uname -r'.",
      priority: 1,
    },
    {
      name: 'Container-Runtime',
      type: 'string',
      description: 'Container Runtime Version reported by the node.',
      priority: 1,
    },
  ],
  cells: (o, now) => {
    const ready = conditionsOf(o).find((c) => c.type === 'Ready');
    const status = ready?.status === 'True' ? 'Ready' : ready?.status === 'False' ? 'NotReady' : 'Unknown';
    const info = (o.status?.nodeInfo ?? {}) as Record<string, string>;
    const addrs = (Array.isArray(o.status?.addresses) ? o.status.addresses : []) as { type: string; address: string }[];
    return [
      o.metadata?.name,
      o.spec?.unschedulable ? `${status},SchedulingDisabled` : status,
      '<none>',
      age(o.metadata?.creationTimestamp, now),
      info.kubeletVersion ?? '',
      addrs.find((a) => a.type === 'InternalIP')?.address ?? '<none>',
      '<none>',
      info.osImage ?? '<unknown>',
      info.kernelVersion ?? '<unknown>',
      info.containerRuntimeVersion ?? '<unknown>',
    ];
  },
  validate: (o) => nameErrors(o, false),
};

export const NAMESPACES: Resource = {
  name: 'namespaces',
  kind: 'Namespace',
  singular: 'namespace',
  namespaced: false,
  shortNames: ['ns'],
  registry: '/registry/namespaces/',
  columns: [
    nameColumn,
    { name: 'Status', type: 'string', description: 'The status of the namespace', priority: 0 },
    ageColumn,
  ],
  cells: (o, now) => [o.metadata?.name, o.status?.phase ?? 'Active', age(o.metadata?.creationTimestamp, now)],
  defaults: (o) => {
    o.spec = { finalizers: ['kubernetes'] };
    o.status = { phase: 'Active' };
    o.metadata!.labels = { ...(o.metadata!.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata!.name! };
  },
  validate: (o) => nameErrors(o, true),
};

/** Events, as the scheduler and the kubelet record them: `kubectl get events`, and `kubectl describe`'s last section. */
export const EVENTS: Resource = {
  name: 'events',
  kind: 'Event',
  singular: 'event',
  namespaced: true,
  shortNames: ['ev'],
  registry: '/registry/events/',
  columns: [
    { name: 'Last Seen', type: 'string', description: 'The time the event was last seen', priority: 0 },
    { name: 'Type', type: 'string', description: 'Normal or Warning', priority: 0 },
    { name: 'Reason', type: 'string', description: 'A short, machine understandable string', priority: 0 },
    { name: 'Object', type: 'string', description: 'The object this event is about', priority: 0 },
    {
      name: 'Message',
      type: 'string',
      description: 'A human-readable description of the status of this operation',
      priority: 0,
    },
  ],
  cells: (o, now) => {
    const inv = (o.involvedObject ?? {}) as { kind?: string; name?: string };
    return [
      age(o.lastTimestamp, now),
      o.type,
      o.reason,
      `${String(inv.kind ?? '').toLowerCase()}/${inv.name ?? ''}`,
      o.message,
    ];
  },
  validate: (o) => nameErrors(o, false),
};

// ---- Services and EndpointSlices ----

/** The Service spec fields the lab models (the API's ClusterIP Service; kube-proxy and the DNS act on them). */
export const SERVICE_SPEC_FIELDS = [
  'selector',
  'ports',
  'type',
  'clusterIP',
  'clusterIPs',
  'ipFamilies',
  'ipFamilyPolicy',
  'sessionAffinity',
  'internalTrafficPolicy',
  'publishNotReadyAddresses',
] as const;
const SERVICE_PORT_FIELDS = ['name', 'protocol', 'port', 'targetPort', 'appProtocol'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;
const isPort = (n: unknown) => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535;
const quoted = (v: unknown) => (typeof v === 'string' ? `"${v}"` : JSON.stringify(v));

export type ServicePort = {
  name?: string;
  protocol?: string;
  port?: number;
  targetPort?: number | string;
  appProtocol?: string;
};
export const portsOf = (o: KubeObject) => (Array.isArray(o.spec?.ports) ? o.spec.ports : []) as ServicePort[];

/** A Service's field errors, as ValidateService words them (with what the lab does not model said so). */
function serviceErrors(o: KubeObject): string[] {
  const errs: string[] = [];
  const name = o.metadata?.name;
  if (!name) errs.push('metadata.name: Required value: name or generateName is required');
  else if (!DNS1035_LABEL.test(name) || name.length > 63)
    errs.push(
      `metadata.name: Invalid value: "${name}": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
    );
  const spec = o.spec ?? {};
  if (spec.type !== undefined && spec.type !== 'ClusterIP')
    errs.push(
      `spec.type: Unsupported value: ${quoted(spec.type)}: supported values: "ClusterIP" (this lab's API server models ClusterIP Services, headless ones included (clusterIP: None); NodePort, LoadBalancer and ExternalName are not modelled)`,
    );
  const ip = spec.clusterIP;
  const headless = ip === 'None';
  if (ip !== undefined && ip !== '' && !headless && !isIPv4(ip))
    errs.push(
      isIPv6(ip)
        ? `spec.clusterIPs[0]: Invalid value: ${quoted(ip)}: this lab's cluster is IPv4 single-stack (service CIDR ${SERVICE_CIDR})`
        : `spec.clusterIPs[0]: Invalid value: ${quoted(ip)}: must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
    );
  const ips = spec.clusterIPs;
  if (ips !== undefined && (!Array.isArray(ips) || ips.length > 1))
    errs.push(
      `spec.clusterIPs: Invalid value: ${JSON.stringify(ips)}: this lab's cluster is IPv4 single-stack: one clusterIP at most`,
    );
  else if (Array.isArray(ips) && ips.length && ip !== undefined && ip !== '' && ips[0] !== ip)
    errs.push(`spec.clusterIPs[0]: Invalid value: ${quoted(ips[0])}: must match \`clusterIP\` when set`);
  const families = spec.ipFamilies;
  if (families !== undefined)
    (Array.isArray(families) ? families : [families]).forEach((f, i) => {
      if (f === 'IPv6') errs.push(`spec.ipFamilies[${i}]: Invalid value: "IPv6": not configured on this cluster`);
      else if (f !== 'IPv4')
        errs.push(`spec.ipFamilies[${i}]: Unsupported value: ${quoted(f)}: supported values: "IPv4", "IPv6"`);
    });
  const policy = spec.ipFamilyPolicy;
  if (policy === 'RequireDualStack')
    errs.push(
      'spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services',
    );
  else if (policy !== undefined && policy !== 'SingleStack' && policy !== 'PreferDualStack')
    errs.push(
      `spec.ipFamilyPolicy: Unsupported value: ${quoted(policy)}: supported values: "PreferDualStack", "RequireDualStack", "SingleStack"`,
    );
  if (spec.sessionAffinity !== undefined && spec.sessionAffinity !== 'None')
    errs.push(
      `spec.sessionAffinity: Unsupported value: ${quoted(spec.sessionAffinity)}: supported values: "None" (this lab does not model ClientIP affinity)`,
    );
  const itp = spec.internalTrafficPolicy;
  if (itp !== undefined && itp !== 'Cluster' && itp !== 'Local')
    errs.push(`spec.internalTrafficPolicy: Unsupported value: ${quoted(itp)}: supported values: "Cluster", "Local"`);
  if (spec.publishNotReadyAddresses !== undefined && typeof spec.publishNotReadyAddresses !== 'boolean')
    errs.push(`spec.publishNotReadyAddresses: Invalid value: ${quoted(spec.publishNotReadyAddresses)}: a boolean`);
  const sel = spec.selector;
  if (sel !== undefined && sel !== null) {
    if (typeof sel !== 'object' || Array.isArray(sel)) errs.push('spec.selector: Invalid value: a map of labels');
    else
      for (const [k, v] of Object.entries(sel as Record<string, unknown>))
        if (typeof v !== 'string' || !LABEL_VALUE.test(v) || v.length > 63)
          errs.push(
            `spec.selector: Invalid value: ${quoted(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (key ${k})`,
          );
  }
  const ports = spec.ports;
  if (ports !== undefined && !Array.isArray(ports)) errs.push('spec.ports: Invalid value: a list of ports');
  const list = portsOf(o);
  if (!list.length && !headless) errs.push('spec.ports: Required value');
  const names = new Set<string>();
  const seen = new Set<string>();
  list.forEach((p, i) => {
    const at = `spec.ports[${i}]`;
    if (!p || typeof p !== 'object') return errs.push(`${at}: Invalid value: a port`);
    for (const f of Object.keys(p))
      if (!SERVICE_PORT_FIELDS.includes(f))
        errs.push(
          `${at}.${f}: this lab's API server does not model this field (a Service's port here may have: ${SERVICE_PORT_FIELDS.join(', ')}${f === 'nodePort' ? '; NodePort Services are not modelled' : ''})`,
        );
    if (list.length > 1 && !p.name) errs.push(`${at}.name: Required value`);
    if (p.name) {
      if (!DNS1123_LABEL.test(p.name))
        errs.push(
          `${at}.name: Invalid value: "${p.name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`,
        );
      if (names.has(p.name)) errs.push(`${at}.name: Duplicate value: "${p.name}"`);
      names.add(p.name);
    }
    if (!isPort(p.port))
      errs.push(`${at}.port: Invalid value: ${quoted(p.port ?? 0)}: must be between 1 and 65535, inclusive`);
    if (p.protocol !== undefined && !PROTOCOLS.includes(p.protocol))
      errs.push(`${at}.protocol: Unsupported value: ${quoted(p.protocol)}: supported values: "SCTP", "TCP", "UDP"`);
    const t = p.targetPort;
    if (typeof t === 'string' && !(IANA_SVC_NAME.test(t) && t.length <= 15 && !t.includes('--')))
      errs.push(
        `${at}.targetPort: Invalid value: "${t}": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-), at least one letter, at most 15 characters`,
      );
    else if (t !== undefined && typeof t !== 'string' && !isPort(t))
      errs.push(`${at}.targetPort: Invalid value: ${quoted(t)}: must be between 1 and 65535, inclusive`);
    const pp = `${p.port}/${p.protocol ?? 'TCP'}`;
    if (seen.has(pp)) errs.push(`${at}: Duplicate value: ${quoted(pp)}`);
    seen.add(pp);
  });
  return errs;
}

/** What a Service's create or update leaves out, as SetDefaults_Service and the registry fill it in. */
export function serviceDefaults(o: KubeObject): void {
  const spec = (o.spec ??= {});
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  spec.internalTrafficPolicy ??= 'Cluster';
  spec.ipFamilyPolicy ??= 'SingleStack';
  spec.ipFamilies ??= ['IPv4'];
  if (spec.clusterIP === 'None') spec.clusterIPs = ['None'];
  for (const p of portsOf(o)) {
    p.protocol ??= 'TCP';
    p.targetPort ??= p.port;
  }
}

export const SERVICES: Resource = {
  name: 'services',
  kind: 'Service',
  singular: 'service',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  registry: '/registry/services/specs/',
  specFields: SERVICE_SPEC_FIELDS,
  columns: [
    nameColumn,
    {
      name: 'Type',
      type: 'string',
      description:
        'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer.',
      priority: 0,
    },
    {
      name: 'Cluster-IP',
      type: 'string',
      description:
        'clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail.',
      priority: 0,
    },
    {
      name: 'External-IP',
      type: 'string',
      description:
        'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.',
      priority: 0,
    },
    {
      name: 'Port(s)',
      type: 'string',
      description: 'The list of ports that are exposed by this service.',
      priority: 0,
    },
    ageColumn,
    {
      name: 'Selector',
      type: 'string',
      description:
        'Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints.',
      priority: 1,
    },
  ],
  cells: (o, now) => {
    const sel = (o.spec?.selector ?? {}) as Record<string, string>;
    const ports = portsOf(o).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`);
    const keys = Object.keys(sel).sort();
    return [
      o.metadata?.name,
      o.spec?.type ?? 'ClusterIP',
      typeof o.spec?.clusterIP === 'string' && o.spec.clusterIP ? o.spec.clusterIP : '<none>',
      '<none>',
      ports.length ? ports.join(',') : '<none>',
      age(o.metadata?.creationTimestamp, now),
      keys.length ? keys.map((k) => `${k}=${sel[k]}`).join(',') : '<none>',
    ];
  },
  defaults: (o) => {
    serviceDefaults(o);
    o.status = { loadBalancer: {} };
  },
  validate: serviceErrors,
};

export type EndpointPort = { name?: string; port?: number | null; protocol?: string; appProtocol?: string };
export type Endpoint = {
  addresses: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  nodeName?: string;
  targetRef?: { kind?: string; namespace?: string; name?: string; uid?: string };
  zone?: string;
  hostname?: string;
};

/** Three items, then "+ N more..." (the printers' listWithMoreString); "<unset>" when there are none. */
function listWithMore(list: string[]): string {
  const shown = list.slice(0, 3).join(',');
  if (list.length > 3) return `${shown} + ${list.length - 3} more...`;
  return shown || '<unset>';
}

function endpointSliceErrors(o: KubeObject): string[] {
  const errs = nameErrors(o, false);
  const type = o.addressType;
  if (type === undefined) errs.push('addressType: Required value');
  else if (!['IPv4', 'IPv6', 'FQDN'].includes(type as string))
    errs.push(`addressType: Unsupported value: ${quoted(type)}: supported values: "FQDN", "IPv4", "IPv6"`);
  const eps = o.endpoints ?? [];
  if (!Array.isArray(eps)) errs.push('endpoints: Invalid value: a list of endpoints');
  else {
    if (eps.length > 1000) errs.push(`endpoints: Too many: ${eps.length}: must have at most 1000 items`);
    (eps as Endpoint[]).forEach((e, i) => {
      const addrs = e?.addresses;
      if (!Array.isArray(addrs) || addrs.length < 1 || addrs.length > 100)
        errs.push(
          `endpoints[${i}].addresses: Invalid value: ${JSON.stringify(addrs ?? [])}: must have 1 to 100 addresses`,
        );
      else
        addrs.forEach((a, j) => {
          if (type === 'IPv4' && !isIPv4(a))
            errs.push(`endpoints[${i}].addresses[${j}]: Invalid value: ${quoted(a)}: must be a valid IPv4 address`);
          if (type === 'IPv6' && !isIPv6(a))
            errs.push(`endpoints[${i}].addresses[${j}]: Invalid value: ${quoted(a)}: must be a valid IPv6 address`);
        });
    });
  }
  const ports = o.ports ?? [];
  if (!Array.isArray(ports)) errs.push('ports: Invalid value: a list of ports');
  else
    (ports as EndpointPort[]).forEach((p, i) => {
      if (p?.port !== undefined && p.port !== null && !isPort(p.port))
        errs.push(`ports[${i}].port: Invalid value: ${quoted(p.port)}: must be between 1 and 65535, inclusive`);
      if (p?.protocol !== undefined && !PROTOCOLS.includes(p.protocol))
        errs.push(
          `ports[${i}].protocol: Unsupported value: ${quoted(p.protocol)}: supported values: "SCTP", "TCP", "UDP"`,
        );
    });
  return errs;
}

export const ENDPOINTSLICES: Resource = {
  name: 'endpointslices',
  group: 'discovery.k8s.io',
  kind: 'EndpointSlice',
  singular: 'endpointslice',
  namespaced: true,
  shortNames: [],
  registry: '/registry/endpointslices/',
  columns: [
    nameColumn,
    {
      name: 'AddressType',
      type: 'string',
      description:
        'addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type.',
      priority: 0,
    },
    {
      name: 'Ports',
      type: 'string',
      description: 'ports specifies the list of network ports exposed by each endpoint in this slice.',
      priority: 0,
    },
    {
      name: 'Endpoints',
      type: 'string',
      description: 'endpoints is a list of unique endpoints in this slice.',
      priority: 0,
    },
    ageColumn,
  ],
  cells: (o, now) => {
    const ports = (Array.isArray(o.ports) ? o.ports : []) as EndpointPort[];
    const eps = (Array.isArray(o.endpoints) ? o.endpoints : []) as Endpoint[];
    return [
      o.metadata?.name,
      o.addressType,
      listWithMore(ports.map((p) => (typeof p.port === 'number' ? String(p.port) : (p.name ?? '*')))),
      listWithMore(eps.flatMap((e) => e.addresses ?? [])),
      age(o.metadata?.creationTimestamp, now),
    ];
  },
  defaults: (o) => {
    for (const p of (Array.isArray(o.ports) ? o.ports : []) as EndpointPort[]) {
      p.name ??= '';
      p.protocol ??= 'TCP';
    }
  },
  validate: endpointSliceErrors,
};

export const RESOURCES: readonly Resource[] = [PODS, NODES, NAMESPACES, EVENTS, SERVICES, ENDPOINTSLICES];
