// The one contract between the renderer and the engine: every request and event, with the schemas
// that validate what crosses the boundary, in both directions. Pure TypeScript (zod only): the
// renderer imports it too, and neither side knows which transport (Electron IPC or WebSocket) it has.
import { z } from 'zod';

const nodeName = z.string().regex(/^[a-z][a-z0-9]{0,9}$/, 'a node name: a lowercase letter, then up to 9 lowercase letters or digits');
const podName = z.string().max(63).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a pod name: a DNS label (lowercase letters, digits and "-")');
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
});
export const WorldStatus = z.object({
  state: z.enum(['stopped', 'starting', 'running', 'stopping', 'failed']),
  nodes: z.array(NodeStatus),
  error: z.string().optional(),
  /** The fix, when the machine cannot run a world (the doctor's words). */
  fix: z.string().optional(),
});
export const PodInfo = z.object({
  name: z.string(),
  namespace: z.string(),
  node: z.string(),
  ip: z.string(),
  netns: z.string(),
  sandboxId: z.string(),
  ready: z.boolean(),
});
export const TerminalTarget = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('sandbox') }),
  z.object({ kind: z.literal('node'), node: nodeName }),
  z.object({ kind: z.literal('pod'), pod: podName }),
]);
export const TerminalInfo = z.object({ id: termId, title: z.string(), target: TerminalTarget, exited: z.boolean() });
export const Progress = z.object({ task: z.string(), step: z.string(), done: z.number(), total: z.number() });

const Empty = z.object({}).strict();
const Ok = z.object({ ok: z.literal(true) });

// ---- labs (src-main/labs/lab-part.ts): guided labs — catalogue, the open lab, its checks ----
const labId = z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'a lab id: its folder name');
const stepIndex = z.number().int().min(0).max(200);
export const LabCommand = z.object({ target: z.string(), text: z.string(), copyOnly: z.boolean(), line: z.number() });
export const LabStep = z.object({
  index: z.number(),
  title: z.string(),
  body: z.array(z.union([z.object({ kind: z.literal('markdown'), text: z.string() }), z.object({ kind: z.literal('command'), index: z.number() })])),
  commands: z.array(LabCommand),
  checks: z.array(z.object({ id: z.string(), title: z.string() })),
  hints: z.array(z.object({ text: z.string(), whenFailing: z.string().optional() })),
  solution: z.array(LabCommand),
  questions: z.array(z.object({ id: z.string(), ask: z.string() })),
});
const LabMeta = { id: z.string(), title: z.string(), summary: z.string(), level: z.string(), duration: z.number(), tags: z.array(z.string()) };
export const LabSummary = z.object({ ...LabMeta, prerequisites: z.array(z.string()), steps: z.number(), nodes: z.number(), current: z.number(), done: z.array(z.number()), error: z.string().optional() });
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
export const LabCheckResult = z.object({ id: z.string(), title: z.string(), ok: z.boolean(), expected: z.string().optional(), found: z.string().optional() });
export const LabChecks = z.object({ lab: z.string(), step: z.number(), results: z.array(LabCheckResult), complete: z.boolean() });
export type LabStep = z.infer<typeof LabStep>;
export type LabCommand = z.infer<typeof LabCommand>;
export type LabSummary = z.infer<typeof LabSummary>;
export type LabView = z.infer<typeof LabView>;
export type LabChecks = z.infer<typeof LabChecks>;
export type LabCheckResult = z.infer<typeof LabCheckResult>;

/** Requests: method → params and result. */
export const requests = {
  'world.status': { params: Empty, result: WorldStatus },
  'world.start': { params: z.object({ nodes: z.number().int().min(1).max(8) }).strict(), result: WorldStatus },
  'world.stop': { params: Empty, result: WorldStatus },
  'world.reset': { params: Empty, result: WorldStatus },
  'pod.list': { params: Empty, result: z.array(PodInfo) },
  'pod.create': { params: z.object({ name: podName, node: nodeName }).strict(), result: PodInfo },
  'pod.delete': { params: z.object({ name: podName }).strict(), result: Ok },
  'terminal.open': { params: z.object({ target: TerminalTarget, cols, rows }).strict(), result: TerminalInfo },
  'terminal.input': { params: z.object({ id: termId, data: z.string().max(1 << 20) }).strict(), result: Ok },
  'terminal.resize': { params: z.object({ id: termId, cols, rows }).strict(), result: Ok },
  /** Characters the renderer's xterm has parsed: flow control (see terminal/flow-control.ts). */
  'terminal.ack': { params: z.object({ id: termId, chars: z.number().int().min(0).max(1 << 24) }).strict(), result: Ok },
  'terminal.close': { params: z.object({ id: termId }).strict(), result: Ok },
  'terminal.list': { params: Empty, result: z.array(TerminalInfo) },
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
  'lab.answer': { params: z.object({ question: z.string().max(100), answer: z.string().max(1000) }).strict(), result: z.object({ correct: z.boolean(), expected: z.string().optional() }) },
} as const;

/** Events: name → payload. Every payload carries the id of what it is about. */
export const events = {
  'world.changed': WorldStatus,
  'world.progress': Progress,
  'pods.changed': z.array(PodInfo),
  'terminal.data': z.object({ id: termId, data: z.string() }),
  'terminal.exit': z.object({ id: termId, code: z.number().nullable(), signal: z.number().nullable() }),
  // ---- labs (src-main/labs/lab-part.ts) ----
  'lab.changed': LabView.nullable(),
  /** The current step's checks, re-evaluated when the world changes, after a command, or on Check. */
  'lab.checks': LabChecks,
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
export const RequestMessage = z.object({ id: z.number().int().min(0), method: z.string().max(64), params: z.unknown() }).strict();
export const ResponseMessage = z.union([
  z.object({ id: z.number(), result: z.unknown() }).strict(),
  z.object({ id: z.number(), error: z.object({ code: z.string(), message: z.string() }) }).strict(),
  z.object({ event: z.string(), payload: z.unknown() }).strict(),
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
