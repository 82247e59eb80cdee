// The one contract between the renderer and the engine: every request and event, with the schemas
// that validate what crosses the boundary, in both directions. Pure TypeScript (zod only): the
// renderer imports it too, and neither side knows which transport (Electron IPC or WebSocket) it has.
import { z } from 'zod';

const nodeName = z
  .string()
  .regex(/^[a-z][a-z0-9]{0,9}$/, 'a node name: a lowercase letter, then up to 9 lowercase letters or digits');
const podName = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a pod name: a DNS label (lowercase letters, digits and "-")');
/**
 * What the pod form adds to a pod: a hostPort for its httpd's port 80 (containerd passes portMappings),
 * annotations (kubernetes.io/ingress-bandwidth and egress-bandwidth shape it), hostNetwork.
 */
const podOptions = {
  hostPort: z
    .number()
    .int('a hostPort is a whole port number, 1 to 65535')
    .min(1, 'a hostPort is a port number, 1 to 65535')
    .max(65535, 'a hostPort is a port number, 1 to 65535')
    .optional(),
  annotations: z.record(z.string().min(1).max(316), z.string().max(4096)).optional(),
  hostNetwork: z.boolean().optional(),
};
export type PodOptions = {
  hostPort?: number | undefined;
  annotations?: Record<string, string> | undefined;
  hostNetwork?: boolean | undefined;
};
const termId = z.string().regex(/^t[0-9]{1,9}$/);
const cols = z.number().int().min(2).max(1000);
const rows = z.number().int().min(1).max(500);

export const Condition = z.object({ status: z.boolean(), reason: z.string(), message: z.string() });
export const NodeStatus = z.object({
  name: z.string(),
  underlayIp: z.string(),
  podCidr: z.string(),
  loopback: z.enum(['internal', 'plugin']),
  networkReady: Condition,
  /** containerd's last CNI config load (crictl info's lastCNILoadStatus): "OK", or why it failed. */
  lastCNILoadStatus: z.string().optional(),
  /** What the node's pods run on: "model", or the real runtime and its version ("containerd 2.1.9"). */
  runtime: z.string().optional(),
});
export const WorldStatus = z.object({
  state: z.enum(['stopped', 'starting', 'running', 'stopping', 'failed']),
  nodes: z.array(NodeStatus),
  error: z.string().optional(),
  /** The fix, when the machine cannot run a world (the doctor's words). */
  fix: z.string().optional(),
  /** What the runtime models, and which real CNI plugins the world runs (the timeline's header). */
  fidelity: z.object({ modelled: z.string(), plugins: z.string() }).optional(),
  /** The world's control plane (a free-play world's; a lab's that asks), started in the background. */
  controlPlane: z
    .object({
      state: z.enum(['starting', 'ready', 'failed']),
      /** Where kubectl reaches the API server, and etcd's client URL. */
      apiServer: z.string(),
      etcd: z.string(),
      /** Why it could not start. */
      error: z.string().optional(),
    })
    .optional(),
});
export const PodInfo = z.object({
  name: z.string(),
  namespace: z.string(),
  node: z.string(),
  ip: z.string(),
  netns: z.string(),
  sandboxId: z.string(),
  ready: z.boolean(),
  /** A pod of the API (kubectl): its phase as kubectl prints it, Terminating once it is being deleted. */
  phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown', 'Terminating']).optional(),
  /** The pod is an object of the world's API server (made with kubectl), not one the app's kubelet made directly. */
  fromApi: z.boolean().optional(),
});
export const TerminalTarget = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sandbox') }),
  z.object({ kind: z.literal('node'), node: nodeName }),
  z.object({ kind: z.literal('pod'), pod: podName }),
]);
export const TerminalInfo = z.object({ id: termId, title: z.string(), target: TerminalTarget, exited: z.boolean() });
export const Progress = z.object({ task: z.string(), step: z.string(), done: z.number(), total: z.number() });

// ---- timeline (the pod lifecycle timeline, step-through and fault injection: src-main/timeline) ----
const opId = z.number().int().min(1).max(1_000_000_000);
const stepId = z.number().int().min(1).max(1_000_000_000);
const pluginType = z
  .string()
  .max(64)
  .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'a CNI plugin type, e.g. bridge');
// apiserver: the control-plane lane (every API request and watch event, src-main/cluster/audit.ts)
export const TimelineComponent = z.enum(['kubelet', 'cri', 'containerd', 'cni', 'kernel', 'apiserver']);
export const TimelineStep = z.object({
  id: stepId,
  parent: stepId.optional(),
  component: TimelineComponent,
  name: z.string(),
  /** Milliseconds since the operation's trace began. */
  start: z.number(),
  end: z.number().optional(),
  error: z.string().optional(),
  undo: z.boolean().optional(),
  /** One line: the key output (as `podnet trace` prints it). */
  summary: z.string(),
});
export const TimelinePause = z.object({
  next: z.object({ component: TimelineComponent, name: z.string() }),
  after: z.object({ component: TimelineComponent, name: z.string() }).optional(),
  /** The pod's network namespace (once NewNetNS made it) and its links as they are now. */
  netns: z.string().optional(),
  podLinks: z.array(z.object({ ifname: z.string(), state: z.string(), up: z.boolean() })).optional(),
});
export const TimelineFault = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('plugin-fails'), plugin: pluginType, on: z.enum(['ADD', 'ADD+DEL']) }).strict(),
  z.object({ kind: z.literal('remove-netns') }).strict(),
]);
export const TimelineOperation = z.object({
  id: opId,
  /**
   * garbageCollect: the kubelet's sweep after a KillPod (no pod, no node: it covers them all).
   * apiCreate/apiDelete: a pod created or deleted through the API (kubectl), from the request to the
   * kubelet's last status write, with the kubelet's SyncPod/KillPod on the same axis; kubectl: a kubectl
   * command's requests about no such pod; controlPlane: the control loops' own requests (heartbeats).
   */
  kind: z.enum(['syncPod', 'killPod', 'garbageCollect', 'apiCreate', 'apiDelete', 'kubectl', 'controlPlane']),
  /** What the operation is, in words, where pod and node do not say it (a kubectl command's first request). */
  title: z.string().optional(),
  pod: z.string(),
  node: z.string(),
  /** Wall clock, ms since the epoch. */
  startedAt: z.number(),
  state: z.enum(['running', 'paused', 'done', 'failed']),
  error: z.string().optional(),
  stepThrough: z.boolean(),
  fault: TimelineFault.optional(),
  /** What the fault did, in words. */
  faultNote: z.string().optional(),
  /** After a fault or a failure: what the operation left behind on its node (empty: nothing). */
  leaks: z.array(z.string()).optional(),
  /** Trace time spent paused, [from, to] ms, so a view can leave the waits out of the time axis. */
  pauses: z.array(z.tuple([z.number(), z.number()])),
  pause: TimelinePause.nullable(),
});
export const TimelineStepDetail = z.object({
  step: TimelineStep,
  source: z.object({ label: z.string(), url: z.string() }).optional(),
  /** A plugin exec's environment (CNI_COMMAND, CNI_NETNS, CNI_ARGS, …). */
  env: z.record(z.string(), z.string()).optional(),
  /** Pretty-printed JSON (or the text as it was). */
  stdin: z.string().optional(),
  stdout: z.string().optional(),
  stderr: z.string().optional(),
  inputs: z.string().optional(),
  outputs: z.string().optional(),
});

// ---- netview: live network views and the topology (src-main/netview/netview-part.ts) ----
/** A namespace of the world: "sandbox", "node:node1", "pod:web", or "netns:node1:cni-…" (a pinned netns no pod claims yet). */
const NsId = z
  .string()
  .max(120)
  .regex(
    /^(sandbox|node:[a-z][a-z0-9]{0,9}|pod:[a-z0-9]([-a-z0-9]*[a-z0-9])?|netns:[a-z][a-z0-9]{0,9}:[A-Za-z0-9._-]{1,80})$/,
    'a namespace id: sandbox, node:<node>, pod:<pod> or netns:<node>:<pin>',
  );
export const NetNamespace = z.object({
  id: NsId,
  kind: z.enum(['sandbox', 'node', 'pod']),
  label: z.string(),
  node: z.string().optional(),
  pod: z.string().optional(),
});
const NvVxlan = z.object({
  vni: z.number(),
  remote: z.string().optional(),
  group: z.string().optional(),
  local: z.string().optional(),
  port: z.number().optional(),
  dev: z.string().optional(),
});
export const NetLink = z.object({
  index: z.number().int(),
  name: z.string(),
  state: z.string(),
  flags: z.array(z.string()),
  mtu: z.number(),
  master: z.string().optional(),
  mac: z.string().optional(),
  kind: z.string().optional(),
  slaveKind: z.string().optional(),
  peerIndex: z.number().optional(),
  netnsId: z.number().optional(),
  vxlan: NvVxlan.optional(),
});
export const NetAddr = z.object({
  ifname: z.string(),
  family: z.string(),
  local: z.string(),
  prefixlen: z.number(),
  scope: z.string(),
});
export const NetRoute = z.object({
  dst: z.string(),
  family: z.enum(['inet', 'inet6']),
  table: z.string(),
  type: z.string().optional(),
  gateway: z.string().optional(),
  dev: z.string().optional(),
  scope: z.string().optional(),
  protocol: z.string().optional(),
  prefsrc: z.string().optional(),
  metric: z.number().optional(),
  nexthops: z
    .array(z.object({ gateway: z.string().optional(), dev: z.string().optional(), weight: z.number().optional() }))
    .optional(),
});
export const NetNeigh = z.object({
  dst: z.string(),
  dev: z.string(),
  lladdr: z.string().optional(),
  state: z.array(z.string()),
});
export const NetFdb = z.object({
  mac: z.string(),
  dev: z.string(),
  master: z.string().optional(),
  state: z.string().optional(),
  flags: z.array(z.string()),
  vlan: z.number().optional(),
  dst: z.string().optional(),
});
/** Rows carry the key diffs use, so the renderer applies a diff without knowing how rows are keyed. */
const keyed = <T extends z.ZodTypeAny>(row: T) => z.array(z.object({ key: z.string(), row }));
const tableDiff = <T extends z.ZodTypeAny>(row: T) =>
  z.object({ added: keyed(row), changed: keyed(row), removed: z.array(z.string()) });
export const NetTables = z.object({
  links: keyed(NetLink),
  addrs: keyed(NetAddr),
  routes: keyed(NetRoute),
  neighs: keyed(NetNeigh),
  fdb: keyed(NetFdb),
});
export const NetDiff = z.object({
  links: tableDiff(NetLink),
  addrs: tableDiff(NetAddr),
  routes: tableDiff(NetRoute),
  neighs: tableDiff(NetNeigh),
  fdb: tableDiff(NetFdb),
});
/** A namespace's state at a sequence number; each diff event carries the next one, so a gap means re-fetch. */
export const NetSnapshotMsg = z.object({ ns: NsId, seq: z.number().int().min(0), at: z.number(), tables: NetTables });
const TopoEnd = z.object({ ns: NsId, name: z.string(), index: z.number().int() });
export const TopoLink = z.object({
  index: z.number().int(),
  name: z.string(),
  kind: z.string().optional(),
  state: z.string(),
  mtu: z.number(),
  mac: z.string().optional(),
  master: z.string().optional(),
  addrs: z.array(z.string()),
  peer: TopoEnd.optional(),
  vxlan: NvVxlan.optional(),
});
export const TopoNamespace = NetNamespace.extend({ links: z.array(TopoLink) });
export const Topology = z.object({
  seq: z.number().int().min(0),
  at: z.number(),
  namespaces: z.array(TopoNamespace),
  /** VXLAN tunnels between nodes: a device, the remote it sends to, and the device there when one matches. */
  tunnels: z.array(z.object({ from: TopoEnd, remote: z.string(), vni: z.number(), to: TopoEnd.optional() })),
});
/** What changed in the topology since the one at `base` (netview/topology-diff.ts): a receiver at another seq fetches it whole. */
export const TopologyDiff = z.object({
  seq: z.number().int().min(1),
  base: z.number().int().min(0),
  at: z.number(),
  /** Namespaces added or changed, whole. */
  upsert: z.array(TopoNamespace),
  remove: z.array(NsId),
  /** Every namespace's id in order, when the set changed. */
  order: z.array(NsId).optional(),
  tunnels: Topology.shape.tunnels,
});

const Empty = z.object({}).strict();
const Ok = z.object({ ok: z.literal(true) });

// --- CNI config editor (config.*): a node's /etc/cni/net.d, lint, and the run panel ---
const confName = z
  .string()
  .max(100)
  .regex(
    /^[A-Za-z0-9_][A-Za-z0-9_.-]*\.(conf|conflist|json)$/,
    'a config file name: letters, digits, "_", "." and "-" (no "/"), ending in .conf, .conflist or .json',
  );
const confText = z.string().max(1 << 20);
export const LintProblem = z.object({
  line: z.number().int().min(1),
  column: z.number().int().min(1),
  endLine: z.number().int().min(1),
  endColumn: z.number().int().min(1),
  severity: z.enum(['error', 'warning']),
  message: z.string(),
  rule: z.string(),
});
export const ConfigFile = z.object({
  name: z.string(),
  size: z.number(),
  mtime: z.number(),
  /** The pod network: the first valid file in lexical order. */
  active: z.boolean(),
  /** Why the runtime cannot load it. */
  error: z.string().optional(),
});
export const ConfigFiles = z.object({
  node: z.string(),
  dir: z.string(),
  files: z.array(ConfigFile),
  network: z.string().optional(),
});
export const ConfigSaved = z.object({ file: ConfigFile, problems: z.array(LintProblem) });
export const RunVerb = z.enum(['ADD', 'CHECK', 'DEL', 'VERSION', 'STATUS', 'GC']);
export const RunTarget = z.discriminatedUnion('kind', [
  /** A pod the kubelet made: its sandbox ID and network namespace. */
  z.object({ kind: z.literal('pod'), pod: podName }),
  /** A network namespace of the editor's own on the node, made on first use. */
  z.object({ kind: z.literal('new'), name: podName }),
]);
export const RunTargetInfo = z.object({
  kind: z.enum(['pod', 'new']),
  name: z.string(),
  netns: z.string(),
  containerId: z.string(),
  attached: z.boolean(),
});
export const RunReport = z.object({
  verb: RunVerb,
  ok: z.boolean(),
  result: z.unknown().optional(),
  note: z.string().optional(),
  versions: z.array(z.object({ plugin: z.string(), supportedVersions: z.array(z.string()) })).optional(),
  error: z
    .object({
      kind: z.enum(['plugin', 'exec', 'config', 'not-supported', 'other']),
      message: z.string(),
      plugin: z.string().optional(),
      code: z.number().optional(),
      msg: z.string().optional(),
      details: z.string().optional(),
      meaning: z.string().optional(),
    })
    .optional(),
  execs: z.array(
    z.object({
      plugin: z.string(),
      command: z.string(),
      stdin: z.string(),
      stdout: z.string(),
      stderr: z.string(),
      exitCode: z.number().nullable(),
      ms: z.number(),
      error: z.string().optional(),
    }),
  ),
  diff: z.array(
    z.object({
      where: z.enum(['pod', 'node']),
      table: z.enum(['link', 'addr', 'route']),
      change: z.enum(['added', 'removed', 'changed']),
      text: z.string(),
    }),
  ),
  target: RunTargetInfo.optional(),
});
const configRequests = {
  'config.files': { params: z.object({ node: nodeName }).strict(), result: ConfigFiles },
  'config.read': {
    params: z.object({ node: nodeName, name: confName }).strict(),
    result: z.object({ name: z.string(), text: z.string(), mtime: z.number() }),
  },
  'config.save': { params: z.object({ node: nodeName, name: confName, text: confText }).strict(), result: ConfigSaved },
  'config.create': {
    params: z.object({ node: nodeName, name: confName, text: confText.optional() }).strict(),
    result: ConfigSaved,
  },
  'config.rename': { params: z.object({ node: nodeName, from: confName, to: confName }).strict(), result: Ok },
  'config.delete': { params: z.object({ node: nodeName, name: confName }).strict(), result: Ok },
  /** Every problem of a text as if it were this file on this node: schema, semantics and the node's own checks. */
  'config.lint': {
    params: z.object({ node: nodeName, name: confName, text: confText }).strict(),
    result: z.object({ problems: z.array(LintProblem) }),
  },
  'config.targets': { params: z.object({ node: nodeName }).strict(), result: z.array(RunTargetInfo) },
  'config.run': {
    params: z.object({ node: nodeName, name: confName, text: confText, verb: RunVerb, target: RunTarget }).strict(),
    result: RunReport,
  },
} as const;
const configEvents = {
  /** A node's config directory changed through the editor (any client). */
  'config.changed': z.object({ node: z.string() }),
} as const;
// --- end CNI config editor ---
// ---- labs (src-main/labs/lab-part.ts): guided labs — catalogue, the open lab, its checks ----
const labId = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'a lab id: its folder name');
const stepIndex = z.number().int().min(0).max(200);
export const LabCommand = z.object({
  target: z.string(),
  text: z.string(),
  copyOnly: z.boolean(),
  line: z.number(),
  /** The block shows a failure on purpose. */
  fails: z.boolean().optional(),
});
export const LabStep = z.object({
  index: z.number(),
  title: z.string(),
  body: z.array(
    z.union([
      z.object({ kind: z.literal('markdown'), text: z.string() }),
      z.object({ kind: z.literal('command'), index: z.number() }),
      // a ```tools block: where its buttons stand (tools below)
      z.object({ kind: z.literal('tools'), index: z.number() }),
    ]),
  ),
  commands: z.array(LabCommand),
  checks: z.array(z.object({ id: z.string(), title: z.string() })),
  hints: z.array(z.object({ text: z.string(), whenFailing: z.string().optional() })),
  solution: z.array(LabCommand),
  questions: z.array(z.object({ id: z.string(), ask: z.string() })),
  /** What the step opens and points when shown (labs/format.ts ToolDirective): open, view, edit, follow. */
  tools: z
    .array(
      z.object({
        open: z.string().optional(),
        view: z.string().optional(),
        edit: z.string().optional(),
        follow: z.string().optional(),
      }),
    )
    .optional(),
});
const LabMeta = {
  id: z.string(),
  title: z.string(),
  summary: z.string(),
  level: z.string(),
  duration: z.number(),
  tags: z.array(z.string()),
};
export const LabSummary = z.object({
  ...LabMeta,
  prerequisites: z.array(z.string()),
  steps: z.number(),
  nodes: z.number(),
  current: z.number(),
  done: z.array(z.number()),
  error: z.string().optional(),
  /** The lab's progress file was unreadable: where it was kept aside (progress starts again). */
  progressNotice: z.string().optional(),
});
export const LabView = z.object({
  ...LabMeta,
  nodes: z.array(z.string()),
  steps: z.array(LabStep),
  /** The step shown (0-based); steps past the first not done are locked. */
  current: z.number(),
  done: z.array(z.number()),
  answers: z.record(z.string(), z.string()),
  timeSpentMs: z.number(),
  /** What the runner is doing now (building the world, applying a solution), or null. */
  busy: z.string().nullable(),
  /** Something the reader should know (a corrupt progress file kept aside, a reload that failed). */
  notice: z.string().optional(),
});
export const LabCheckResult = z.object({
  id: z.string(),
  title: z.string(),
  ok: z.boolean(),
  expected: z.string().optional(),
  found: z.string().optional(),
});
export const LabChecks = z.object({
  lab: z.string(),
  step: z.number(),
  results: z.array(LabCheckResult),
  complete: z.boolean(),
});
export type LabStep = z.infer<typeof LabStep>;
export type LabCommand = z.infer<typeof LabCommand>;
export type LabSummary = z.infer<typeof LabSummary>;
export type LabView = z.infer<typeof LabView>;
export type LabChecks = z.infer<typeof LabChecks>;
export type LabCheckResult = z.infer<typeof LabCheckResult>;

// ---- follow a packet (path.*: src-main/path, served by the LabService against the running world) ----
/** A place of the world: pod:NAME, node:NAME, svc:NAME, a bare name (pod, then node, then Service), an IPv4 address[:PORT]. */
const pathPlace = z
  .string()
  .max(100)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9.:/_-]{0,99}$/,
    'a place: pod:NAME, node:NAME, svc:NAME, a name, or an IPv4 address (optionally ADDR:PORT)',
  );
export const PathFollowParams = z
  .object({
    from: pathPlace,
    to: pathPlace,
    kind: z.enum(['ping', 'tcp', 'udp']),
    port: z
      .number()
      .int('a port is a whole number, 1 to 65535')
      .min(1, 'a port is 1 to 65535')
      .max(65535, 'a port is 1 to 65535')
      .optional(),
  })
  .strict();
const PathPacket = z.object({
  src: z.string(),
  dst: z.string(),
  length: z.number(),
  ttl: z.number(),
  srcMac: z.string().optional(),
  dstMac: z.string().optional(),
  l4: z.object({
    proto: z.enum(['icmp', 'tcp', 'udp']),
    icmp: z.object({ type: z.string(), id: z.number(), seq: z.number() }).optional(),
    sport: z.number().optional(),
    dport: z.number().optional(),
    flags: z.string().optional(),
  }),
});
const PathNat = z.object({
  source: z.enum(['trace', 'counters']),
  rules: z.array(z.object({ table: z.string(), chain: z.string(), verdict: z.string(), rule: z.string() })),
  serviceChain: z.string().optional(),
  endpointChain: z.string().optional(),
  dnatRule: z.string().optional(),
  backend: z.string().optional(),
});
export const PathDecision = z.object({
  route: z
    .object({
      command: z.string(),
      result: z.string(),
      ok: z.boolean(),
      dev: z.string().optional(),
      via: z.string().optional(),
      type: z.enum(['local', 'unicast']).optional(),
    })
    .optional(),
  neigh: z
    .union([
      z.object({ dst: z.string(), dev: z.string(), lladdr: z.string().optional(), state: z.array(z.string()) }),
      z.object({ dst: z.string(), dev: z.string(), missing: z.literal(true) }),
    ])
    .optional(),
  fdb: z
    .object({
      mac: z.string(),
      dev: z.string(),
      master: z.string().optional(),
      dst: z.string().optional(),
      state: z.string().optional(),
      flags: z.array(z.string()).optional(),
    })
    .optional(),
  nat: PathNat.optional(),
  rewritten: z
    .object({ field: z.enum(['source', 'destination']), from: z.string(), to: z.string(), by: z.string() })
    .optional(),
});
/** One place a packet was seen: a namespace (as the topology names it: node:NAME, pod:NAME) and its interface. */
export const PathHop = z.object({
  leg: z.enum(['request', 'reply']),
  space: z.string(),
  node: z.string(),
  pod: z.string().optional(),
  ifname: z.string(),
  kind: z.string().optional(),
  master: z.string().optional(),
  direction: z.enum(['in', 'out']),
  /** Seconds since the epoch (the kernel's stamp). */
  time: z.number(),
  packet: PathPacket,
  vxlan: z.object({ vni: z.number(), inner: PathPacket }).optional(),
  decision: PathDecision,
});
export const PathResult = z.object({
  kind: z.enum(['icmp', 'tcp', 'udp']),
  from: z.string(),
  to: z.string(),
  marker: z.string(),
  hops: z.array(PathHop),
  drop: z
    .object({
      space: z.string(),
      lastSeen: PathHop.optional(),
      reason: z.enum(['no route', 'no neighbour', 'rule', 'unknown']),
      detail: z.string(),
    })
    .optional(),
  transitMs: z.number().optional(),
  timings: z.object({ listening: z.number(), sent: z.number(), stopped: z.number(), done: z.number() }).optional(),
  captured: z.array(z.string()).optional(),
  limited: z.string().optional(),
});
/** A path followed from anywhere (a page, a node terminal's `podnet path`): every page sees it. */
export const PathFollowed = z.object({ request: PathFollowParams, result: PathResult });
export type PathFollowParams = z.infer<typeof PathFollowParams>;
export type PathResultMsg = z.infer<typeof PathResult>;
export type PathHopMsg = z.infer<typeof PathHop>;
const pathRequests = {
  /** Follows one packet in the running world (one follow at a time); every page gets path.followed too. */
  'path.follow': { params: PathFollowParams, result: PathResult },
} as const;
const pathEvents = {
  'path.followed': PathFollowed,
} as const;
// ---- end follow a packet ----

/** Requests: method → params and result. */
export const requests = {
  'world.status': { params: Empty, result: WorldStatus },
  'world.start': {
    params: z
      .object({
        nodes: z.number().int().min(1).max(8),
        /** The model of containerd (default: step-through, faults) or the real containerd 2.1.9 on each node. */
        runtime: z.enum(['model', 'containerd']).optional(),
      })
      .strict(),
    result: WorldStatus,
  },
  'world.stop': { params: Empty, result: WorldStatus },
  /** Starts the next world's sandbox ahead while none runs (a start then takes it): a hint, answered at once. */
  'world.prepare': { params: Empty, result: Ok },
  'world.reset': { params: Empty, result: WorldStatus },
  'pod.list': { params: Empty, result: z.array(PodInfo) },
  'pod.create': { params: z.object({ name: podName, node: nodeName, ...podOptions }).strict(), result: PodInfo },
  'pod.delete': { params: z.object({ name: podName }).strict(), result: Ok },
  'terminal.open': { params: z.object({ target: TerminalTarget, cols, rows }).strict(), result: TerminalInfo },
  'terminal.input': { params: z.object({ id: termId, data: z.string().max(1 << 20) }).strict(), result: Ok },
  'terminal.resize': { params: z.object({ id: termId, cols, rows }).strict(), result: Ok },
  /** Bytes of output the renderer's xterm has parsed: flow control (see terminal/flow-control.ts). */
  'terminal.ack': {
    params: z
      .object({
        id: termId,
        bytes: z
          .number()
          .int()
          .min(0)
          .max(1 << 24),
      })
      .strict(),
    result: Ok,
  },
  'terminal.close': { params: z.object({ id: termId }).strict(), result: Ok },
  'terminal.list': { params: Empty, result: z.array(TerminalInfo) },
  /** A terminal's recent output as the engine kept it (base64 of the bytes), for a page that reloaded. */
  'terminal.scrollback': {
    params: z.object({ id: termId }).strict(),
    result: z.object({ data: z.string().max(1 << 21) }).strict(),
  },
  // ---- timeline ----
  'timeline.list': { params: Empty, result: z.array(TimelineOperation) },
  'timeline.steps': { params: z.object({ op: opId }).strict(), result: z.array(TimelineStep) },
  'timeline.detail': { params: z.object({ op: opId, step: stepId }).strict(), result: TimelineStepDetail },
  /** The plugins of a node's pod network (what a fault can make fail). */
  'timeline.plugins': {
    params: z.object({ node: nodeName }).strict(),
    result: z.object({ network: z.string().optional(), plugins: z.array(z.string()) }),
  },
  'timeline.createPod': {
    params: z
      .object({
        name: podName,
        node: nodeName,
        ...podOptions,
        stepThrough: z.boolean(),
        fault: TimelineFault.optional(),
      })
      .strict(),
    result: TimelineOperation,
  },
  'timeline.deletePod': {
    params: z.object({ name: podName, stepThrough: z.boolean(), fault: TimelineFault.optional() }).strict(),
    result: TimelineOperation,
  },
  'timeline.next': { params: z.object({ op: opId }).strict(), result: Ok },
  'timeline.continue': { params: z.object({ op: opId }).strict(), result: Ok },
  ...configRequests,
  ...pathRequests,
  // ---- netview: live network views and the topology ----
  'netview.namespaces': { params: Empty, result: z.array(NetNamespace) },
  'netview.snapshot': { params: z.object({ ns: NsId }).strict(), result: NetSnapshotMsg },
  /** Starts netview.diff events for a namespace (counted: each watch needs its unwatch) and returns its state. */
  'netview.watch': { params: z.object({ ns: NsId }).strict(), result: NetSnapshotMsg },
  'netview.unwatch': { params: z.object({ ns: NsId }).strict(), result: Ok },
  'netview.topology': { params: Empty, result: Topology },
  /**
   * Starts netview.topology / netview.topologyDiff events (counted: each watch needs its unwatch; a page's
   * socket that closes releases its own) and returns the topology. Unwatched, the engine reads no table the
   * topology draws until it is asked for.
   */
  'netview.watchTopology': { params: Empty, result: Topology },
  'netview.unwatchTopology': { params: Empty, result: Ok },
  // ---- labs (src-main/labs/lab-part.ts) ----
  'lab.list': { params: Empty, result: z.array(LabSummary) },
  /** Opens a lab: its world is built (whatever ran is stopped) and its progress restored. */
  'lab.open': { params: z.object({ id: labId }).strict(), result: LabView },
  'lab.state': { params: Empty, result: LabView.nullable() },
  'lab.close': { params: Empty, result: Ok },
  /** Shows a step that is unlocked (the world is left as it is). */
  'lab.goto': { params: z.object({ step: stepIndex }).strict(), result: LabView },
  /** Any step: a fresh world with the earlier steps' solutions applied. */
  'lab.jump': { params: z.object({ step: stepIndex }).strict(), result: LabView },
  /** A fresh world at step 1; progress cleared. */
  'lab.reset': { params: Empty, result: LabView },
  'lab.check': { params: Empty, result: LabChecks },
  /** Applies the current step's solution, then checks. */
  'lab.solution': { params: Empty, result: LabChecks },
  /** Runs a kubelet block of the current step (syncPod/killPod lines). */
  'lab.kubelet': { params: z.object({ command: z.number().int().min(0).max(500) }).strict(), result: Ok },
  'lab.answer': {
    params: z.object({ question: z.string().max(100), answer: z.string().max(1000) }).strict(),
    result: z.object({ correct: z.boolean(), expected: z.string().optional() }),
  },
} as const;

/** Events: name → payload. Every payload carries the id of what it is about. */
export const events = {
  'world.changed': WorldStatus,
  'world.progress': Progress,
  'pods.changed': z.array(PodInfo),
  /** A terminal's output, as the pty wrote it (UTF-8 bytes); a binary frame on the WebSocket (api/frames.ts). */
  'terminal.data': z.object({
    id: termId,
    data: z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected bytes (a Uint8Array)'),
  }),
  'terminal.exit': z.object({ id: termId, code: z.number().nullable(), signal: z.number().nullable() }),
  // ---- timeline ----
  'timeline.operation': TimelineOperation,
  'timeline.step': z.object({ op: opId, step: TimelineStep }),
  'timeline.pause': z.object({ op: opId, pause: TimelinePause.nullable() }),
  ...configEvents,
  ...pathEvents,
  // ---- netview: live network views and the topology ----
  /** What changed in a watched namespace; seq is the snapshot's seq + 1 (a gap: re-fetch with netview.snapshot). */
  'netview.diff': z.object({ ns: NsId, seq: z.number().int().min(1), at: z.number(), diff: NetDiff }),
  /** A watched namespace is gone (its pod was deleted, the world stopped). */
  'netview.gone': z.object({ ns: NsId }),
  /** The whole world's topology, after any change (coalesced). */
  'netview.topology': Topology,
  /** After the first whole one: only what changed (a big world's topology is ~120 KB whole). */
  'netview.topologyDiff': TopologyDiff,
  // ---- labs (src-main/labs/lab-part.ts) ----
  'lab.changed': LabView.nullable(),
  /** The current step's checks, re-evaluated when the world changes, after a command, or on Check. */
  'lab.checks': LabChecks,
  /** The catalogue again, when the labs folder changed (a lab added, removed or edited): no reload needed. */
  'lab.catalogue': z.array(LabSummary),
  // ---- workshop (src-main/workshop/) ----
  /** A word from the instructor to every seat (`message`), or what this page is (`mirror`: a read-only view of a seat). */
  'workshop.notice': z
    .object({ kind: z.enum(['message', 'mirror']), text: z.string().min(1).max(500), at: z.number() })
    .strict(),
} as const;

export type Method = keyof typeof requests;
export type EventName = keyof typeof events;
export type Params<M extends Method> = z.infer<(typeof requests)[M]['params']>;
export type Result<M extends Method> = z.infer<(typeof requests)[M]['result']>;
export type Payload<E extends EventName> = z.infer<(typeof events)[E]>;
export type WorldStatus = z.infer<typeof WorldStatus>;
export type PodInfo = z.infer<typeof PodInfo>;
export type TerminalTarget = z.infer<typeof TerminalTarget>;
export type TerminalInfo = z.infer<typeof TerminalInfo>;
export type NetNamespace = z.infer<typeof NetNamespace>;
export type NetTables = z.infer<typeof NetTables>;
export type NetDiff = z.infer<typeof NetDiff>;
export type NetSnapshotMsg = z.infer<typeof NetSnapshotMsg>;
export type Topology = z.infer<typeof Topology>;
export type TopologyDiff = z.infer<typeof TopologyDiff>;
export type TopoNamespace = z.infer<typeof TopoNamespace>;
export type TopoLink = z.infer<typeof TopoLink>;
export type TimelineStep = z.infer<typeof TimelineStep>;
export type TimelinePause = z.infer<typeof TimelinePause>;
export type TimelineFault = z.infer<typeof TimelineFault>;
export type TimelineOperation = z.infer<typeof TimelineOperation>;
export type TimelineStepDetail = z.infer<typeof TimelineStepDetail>;
export type LintProblem = z.infer<typeof LintProblem>;
export type ConfigFile = z.infer<typeof ConfigFile>;
export type RunReport = z.infer<typeof RunReport>;
export type RunTargetInfo = z.infer<typeof RunTargetInfo>;

/** The service the engine implements: one method per request. */
export type PodnetApi = { [M in Method]: (params: Params<M>) => Promise<Result<M>> };

/** Error codes that cross the boundary. */
export type ApiErrorCode = 'bad-request' | 'unknown-method' | 'failed' | 'unauthorized';

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Wire messages. Client → engine: a request. Engine → client: a response or an event. */
export const RequestMessage = z
  .object({ id: z.number().int().min(0), method: z.string().max(64), params: z.unknown() })
  .strict();
// an event first: most messages are events, and a union tries its shapes in order (the three cannot overlap)
export const ResponseMessage = z.union([
  z.object({ event: z.string(), payload: z.unknown() }).strict(),
  z.object({ id: z.number(), result: z.unknown() }).strict(),
  z.object({ id: z.number(), error: z.object({ code: z.string(), message: z.string() }) }).strict(),
]);
export type RequestMessage = z.infer<typeof RequestMessage>;
export type ResponseMessage = z.infer<typeof ResponseMessage>;

export function isMethod(m: string): m is Method {
  return Object.prototype.hasOwnProperty.call(requests, m);
}
export function isEvent(e: string): e is EventName {
  return Object.prototype.hasOwnProperty.call(events, e);
}

/** Validates a request's params; a typed error that says which field is wrong. */
export function parseParams<M extends Method>(method: M, params: unknown): Params<M> {
  const r = requests[method].params.safeParse(params ?? {});
  if (!r.success) throw new ApiError('bad-request', `invalid params for ${method}: ${describeIssues(r.error)}`);
  return r.data as Params<M>;
}

export function parseResult<M extends Method>(method: M, result: unknown): Result<M> {
  const r = requests[method].result.safeParse(result);
  if (!r.success) throw new ApiError('failed', `invalid result from ${method}: ${describeIssues(r.error)}`);
  return r.data as Result<M>;
}

export function parsePayload<E extends EventName>(event: E, payload: unknown): Payload<E> {
  const r = events[event].safeParse(payload);
  if (!r.success) throw new ApiError('bad-request', `invalid payload for event ${event}: ${describeIssues(r.error)}`);
  return r.data as Payload<E>;
}

export function describeIssues(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.length ? i.path.join('.') : '(params)'}: ${i.message}`).join('; ');
}
