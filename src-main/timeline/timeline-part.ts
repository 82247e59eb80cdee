// The lifecycle timeline's engine part: every SyncPod and KillPod the kubelet runs, recorded with its
// trace (bounded history), streamed live as steps, explained step by step on request; pod create and
// delete in step-through mode (a step gate on the operation's trace); and faults for teaching.
import {
  ApiError,
  type PodnetApi,
  type PodOptions,
  type TimelineFault,
  type TimelineOperation,
  type TimelinePause,
  type TimelineStep,
  type TimelineStepDetail,
} from '../api/contract.js';
import type { Session, SessionPart } from '../session/session.js';
// the pod LabService creates, so a pod made here is the same pod
import { formPodSpec } from '../session/world-spec.js';
import type { KubeletOperation } from '../runtime/kubelet.js';
import { Kubelet } from '../runtime/kubelet.js';
import { podLeftovers, settledPodLeftovers } from '../runtime/leaks.js';
import { summarize } from '../runtime/trace-format.js';
import { Trace, type PendingStep, type TraceEvent } from '../runtime/trace.js';
import { nodeFolder } from '../fs/world-files.js';
import { NODE_PATHS } from '../world/world.js';
import { installFailingPlugin, removeNetns } from './faults.js';
import type { ApiActivity } from '../api/api-activity.js';
import { apiStep, slicePod, podKeyOf, withoutApp } from './api-lane.js';
import { StepThrough } from './step-through.js';

/** Operations kept; the oldest finished ones go first. */
export const HISTORY = 40;
/** A pretty-printed value is cut here: a view has no use for megabytes. */
const MAX_TEXT = 200_000;

type TimelineMethods =
  `timeline.${'list' | 'steps' | 'detail' | 'plugins' | 'createPod' | 'deletePod' | 'next' | 'continue'}`;

interface Op {
  info: TimelineOperation;
  trace: Trace;
  stepThrough?: StepThrough;
  /** Set once the world is gone or the operation forgotten: nothing more is emitted for it. */
  dropped: boolean;
  off: () => void;
  removeFault?: () => Promise<void>;
  faultApplied?: boolean;
  /** What the node had before (for a leak report): leftovers of other pods are not this operation's. */
  before?: string[];
  sandboxId?: string;
  netns?: string;
  lastEnded?: TraceEvent;
  pauseFrom?: number;
  pauseSeq: number;
  /** Added to the trace's times: a control-plane operation's time zero is its first API request. */
  shift: number;
  /** A control-plane operation's API steps (the apiserver lane). */
  api?: ApiOp;
}

/** What a control-plane operation (apiCreate, apiDelete, kubectl, controlPlane) holds besides its trace. */
interface ApiOp {
  /** Time zero, wall clock ms. */
  base: number;
  steps: TimelineStep[];
  details: Map<number, TimelineStepDetail>;
  nextId: number;
  /** The pod it is about (namespace/name). */
  key?: string;
  /** The kubelet's SyncPod or KillPod joined it. */
  joined: boolean;
  /** The kubelet's operation failed: the API operation fails with it. */
  error?: string;
  finishing?: NodeJS.Timeout;
  /** Gives up waiting for its end (a pod that stays Pending). */
  expiry?: NodeJS.Timeout;
}

/** API steps ids start here: a trace's own ids count from 1. */
const API_STEP_IDS = 100_000_000;
/** After the last write of an operation, this long for the watch events it caused. */
const API_LINGER_MS = 300;
/** A pod operation that never ends (a pod that stays Pending) is closed after this long. */
const API_OP_MAX_MS = 30_000;
/** kubectl's requests about no open pod operation: one operation per command (requests this close together). */
const KUBECTL_QUIET_MS = 200;
/** How long a kubelet operation waits for its pod's API line (it may arrive after the kubelet's watch event). */
const KUBELET_WAIT_MS = 300;
/** The control loops' background operation starts afresh after this long or this many steps. */
const BACKGROUND_MS = 60_000;
const BACKGROUND_STEPS = 400;

export function stepOf(e: TraceEvent): TimelineStep {
  return {
    id: e.id,
    ...(e.parent !== undefined ? { parent: e.parent } : {}),
    component: e.component,
    name: e.name,
    start: e.start,
    ...(e.end !== undefined ? { end: e.end } : {}),
    ...(e.error !== undefined ? { error: e.error } : {}),
    ...(e.undo ? { undo: true } : {}),
    summary: summarize(e),
  };
}

export function pretty(v: unknown): string {
  const s = typeof v === 'string' ? v : (JSON.stringify(v, null, 2) ?? String(v));
  return s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT)}\n… (${s.length - MAX_TEXT} more characters)` : s;
}

/** A step's inputs and outputs, with a plugin exec's env, stdin and stdout taken apart. */
export function detailOf(e: TraceEvent): TimelineStepDetail {
  const { env, stdin, ...inputs } = e.inputs ?? {};
  const { stdout, stderr, ...outputs } = e.outputs ?? {};
  const isEnv = (x: unknown): x is Record<string, string> =>
    !!x && typeof x === 'object' && Object.values(x).every((v) => typeof v === 'string');
  return {
    step: stepOf(e),
    ...(e.source ? { source: e.source } : {}),
    ...(isEnv(env) ? { env } : {}),
    ...(stdin !== undefined ? { stdin: pretty(stdin) } : {}),
    ...(stdout !== undefined ? { stdout: pretty(stdout) } : {}),
    ...(stderr !== undefined ? { stderr: pretty(stderr) } : {}),
    ...(Object.keys(inputs).length ? { inputs: pretty(inputs) } : {}),
    ...(Object.keys(outputs).length ? { outputs: pretty(outputs) } : {}),
  };
}

export class TimelinePart implements SessionPart, Pick<PodnetApi, TimelineMethods> {
  private session: Session | undefined;
  private unobserve: (() => void) | undefined;
  private readonly ops = new Map<number, Op>();
  /** Traces of operations started here, claimed when the kubelet announces them. */
  private readonly started = new Map<Trace, Op>();
  private seq = 0;
  /** Open control-plane operations about a pod (namespace/name). */
  private readonly apiOps = new Map<string, Op>();
  /** kubectl's latest requests, held until they belong to a pod's operation or form one of their own. */
  private kubectl: { items: ApiActivity[]; timer?: NodeJS.Timeout } = { items: [] };
  private background: Op | undefined;
  private offApi: (() => void) | undefined;
  /** The world has a control plane (its activity arrived): kubelet operations wait for theirs (KUBELET_WAIT_MS). */
  private apiSeen = false;
  /** Kubelet operations waiting for the API operation of their pod, by namespace/name. */
  private readonly waiting = new Map<string, { k: { pod?: string }; go: () => void }>();

  attach(session: Session): void {
    this.session = session;
    this.offApi = session.onApiActivity?.((a) => this.onApi(a));
    const off = session.kubelet.observe((k) => this.onOperation(k));
    // the kubelet's garbage collection (RemovePodSandbox, pod logs) is an operation of its own, after KillPod
    const offGc = session.kubelet.observeGc((g) =>
      this.onOperation({ kind: 'garbageCollect', name: '', node: '', trace: g.trace, done: g.done }),
    );
    this.unobserve = () => (off(), offGc());
  }

  detach(): void {
    this.unobserve?.();
    this.unobserve = undefined;
    this.offApi?.();
    this.offApi = undefined;
    clearTimeout(this.kubectl.timer);
    this.kubectl = { items: [] };
    this.background = undefined;
    this.apiSeen = false;
    for (const w of [...this.waiting.values()]) w.go();
    this.waiting.clear();
    for (const op of this.apiOps.values()) {
      clearTimeout(op.api?.finishing);
      clearTimeout(op.api?.expiry);
    }
    this.apiOps.clear();
    this.slices.clear();
    const world = this.session?.world;
    this.session = undefined;
    for (const op of this.ops.values()) {
      op.dropped = true;
      op.off();
      // an abandoned step-through must not hold the runtime: the gate lets everything run
      op.stepThrough?.continue();
      if (op.removeFault && world) void op.removeFault().catch(() => {});
    }
    this.ops.clear();
    this.started.clear();
  }

  private require(): Session {
    if (!this.session) throw new ApiError('failed', 'no world is running: start one first');
    return this.session;
  }

  private emitOp(op: Op): void {
    if (!op.dropped) this.session?.emit('timeline.operation', op.info);
  }

  private newOp(
    kind: TimelineOperation['kind'],
    pod: string,
    node: string,
    trace: Trace,
    stepThrough: boolean,
    fault?: TimelineFault,
  ): Op {
    const info: TimelineOperation = {
      id: ++this.seq,
      kind,
      pod,
      node,
      startedAt: Date.now(),
      state: 'running',
      stepThrough,
      ...(fault ? { fault } : {}),
      pauses: [],
      pause: null,
    };
    const op: Op = { info, trace, dropped: false, pauseSeq: 0, shift: 0, off: () => {} };
    this.listen(op, trace);
    this.ops.set(info.id, op);
    for (const [id, o] of this.ops) {
      if (this.ops.size <= HISTORY) break;
      if (o.info.state === 'done' || o.info.state === 'failed') {
        o.off();
        o.dropped = true;
        this.ops.delete(id);
      }
    }
    return op;
  }

  /** The op follows this trace's steps (its own, or the kubelet's that joined a control-plane operation). */
  private listen(op: Op, trace: Trace): void {
    const onEvent = (e: TraceEvent) => this.onStep(op, e);
    trace.on('event', onEvent);
    trace.on('update', onEvent);
    op.off = () => (trace.off('event', onEvent), trace.off('update', onEvent));
  }

  private onOperation(
    k: Pick<KubeletOperation, 'name' | 'node' | 'trace' | 'done'> & {
      kind: TimelineOperation['kind'];
      pod?: string;
    },
  ): void {
    if (this.joinApiOp(k)) return;
    // with a control plane, the kubelet may hear of a pod (its watch) before the API's line about it
    // arrives: its operation waits a moment for the API operation it belongs to
    if (this.apiSeen && k.pod && !this.started.has(k.trace) && (k.kind === 'syncPod' || k.kind === 'killPod')) {
      const key = k.pod;
      this.waiting.get(key)?.go();
      const timer = setTimeout(() => this.waiting.get(key)?.go(), KUBELET_WAIT_MS);
      this.waiting.set(key, {
        k,
        go: () => {
          clearTimeout(timer);
          this.waiting.delete(key);
          if (this.session && !this.joinApiOp(k)) this.standalone(k);
        },
      });
      return;
    }
    this.standalone(k);
  }

  private standalone(
    k: Pick<KubeletOperation, 'name' | 'node' | 'trace' | 'done'> & { kind: TimelineOperation['kind'] },
  ): void {
    const op = this.started.get(k.trace) ?? this.newOp(k.kind, k.name, k.node, k.trace, false);
    this.started.delete(k.trace);
    if (k.node) op.info.node = k.node;
    this.emitOp(op);
    k.done.then(
      () => this.finish(op),
      (e: unknown) => this.finish(op, e),
    );
  }

  private onStep(op: Op, e: TraceEvent): void {
    if (e.name === 'NewNetNS' && typeof e.outputs?.netns === 'string') op.netns = e.outputs.netns;
    if (e.name === 'RunPodSandbox' && typeof e.outputs?.sandboxId === 'string') op.sandboxId = e.outputs.sandboxId;
    if (e.end !== undefined) op.lastEnded = e;
    if (!op.dropped) this.session?.emit('timeline.step', { op: op.info.id, step: this.shifted(op, stepOf(e)) });
  }

  /** A trace step on its operation's time axis. */
  private shifted(op: Op, s: TimelineStep): TimelineStep {
    if (!op.shift) return s;
    const r = (t: number) => Math.round((t + op.shift) * 1000) / 1000;
    return { ...s, start: r(s.start), ...(s.end !== undefined ? { end: r(s.end) } : {}) };
  }

  private stepsOf(op: Op): TimelineStep[] {
    return [...op.trace.events.map((e) => this.shifted(op, stepOf(e))), ...(op.api?.steps ?? [])];
  }

  // ---- the control-plane lane: API requests and watch events, grouped by the pod they are about ----

  private onApi(raw: ApiActivity): void {
    this.apiSeen = true;
    const a = withoutApp(raw);
    if (!a || !this.session) return;
    const key = podKeyOf(a);
    const open = key ? this.apiOps.get(key) : undefined;
    if (open) return this.addApi(open, a);
    // the EndpointSlice controller's write and kube-proxy's watch events follow a pod's Ready (or its
    // deletion): they join that pod's operation, the seeds' sequence to its end
    const follows = a.resource === 'endpointslices' ? this.sliceFollows(a) : undefined;
    if (follows) return this.addApi(follows, a);
    // a pod created or deleted through the API begins its operation (with kubectl's requests just before)
    const begins =
      a.audit === 'request' &&
      a.resource === 'pods' &&
      !a.sub &&
      a.code < 400 &&
      ((a.verb === 'create' && a.code === 201) || (a.verb === 'delete' && a.who !== 'kubelet'));
    if (begins && key) {
      const held = a.who === 'kubectl' ? this.takeKubectl() : [];
      const kind = a.verb === 'create' ? 'apiCreate' : 'apiDelete';
      const op = this.newApiOp(kind, key, held[0]?.at ?? a.at, `${a.who} ${a.verb} pod ${key}`);
      this.apiOps.set(key, op);
      op.api!.expiry = setTimeout(() => this.finishApi(op), API_OP_MAX_MS);
      for (const h of held) this.addApi(op, h);
      this.addApi(op, a);
      // the kubelet's operation that came first joins it now
      this.waiting.get(key)?.go();
      return;
    }
    if (a.audit === 'request' && a.who === 'kubectl') {
      this.kubectl.items.push(a);
      clearTimeout(this.kubectl.timer);
      this.kubectl.timer = setTimeout(() => this.flushKubectl(), KUBECTL_QUIET_MS);
      return;
    }
    this.addApi(this.backgroundOp(a.at), a);
  }

  /** Each EndpointSlice's ready pods as last seen, and the operation that change joined (its watch events follow it). */
  private slices = new Map<string, { ready: string; keys: string[]; op: Op | undefined }>();

  /** The pod operation a slice change is about (api-lane.ts's slicePod); without the slice's endpoints, the latest one ending. */
  private sliceFollows(a: ApiActivity): Op | undefined {
    const open = [...this.apiOps.entries()];
    const creates = open.filter(([, o]) => o.info.kind === 'apiCreate' && o.api!.finishing).map(([k]) => k);
    const deletes = open.filter(([, o]) => o.info.kind === 'apiDelete').map(([k]) => k);
    if (!a.readyPods || !a.name) return this.apiOps.get(creates.at(-1) ?? deletes.at(-1) ?? '');
    const ns = a.namespace ?? 'default';
    const name = `${ns}/${a.name}`;
    const keys = a.readyPods.map((p) => `${ns}/${p}`).sort();
    const ready = keys.join(',');
    const seen = this.slices.get(name);
    // the controller's write, then each watcher's event of the same slice: one change, one operation
    if (seen?.ready === ready && seen.op && [...this.apiOps.values()].includes(seen.op)) return seen.op;
    const op = this.apiOps.get(slicePod(keys, seen?.keys, { creates, deletes }) ?? '');
    this.slices.set(name, { ready, keys, op });
    return op;
  }

  private takeKubectl(): ApiActivity[] {
    clearTimeout(this.kubectl.timer);
    const items = this.kubectl.items;
    this.kubectl = { items: [] };
    return items;
  }

  /** A kubectl command that was about no new pod (get, describe, get -w): an operation of its own. */
  private flushKubectl(): void {
    const items = this.takeKubectl();
    if (!items.length || !this.session) return;
    const main = items.find((x) => x.resource) ?? items[0]!;
    const title = main.audit === 'request' ? `kubectl ${main.verb} ${main.resource ?? main.path}` : 'kubectl';
    const op = this.newApiOp('kubectl', undefined, items[0]!.at, title);
    for (const a of items) this.addApi(op, a);
    this.finishApi(op);
  }

  /** The control loops' requests about no open pod operation (heartbeats, the scheduler's lists). */
  private backgroundOp(at: number): Op {
    const b = this.background;
    if (b && !b.dropped && at - b.api!.base < BACKGROUND_MS && b.api!.steps.length < BACKGROUND_STEPS) return b;
    if (b) this.finishApi(b);
    const op = this.newApiOp('controlPlane', undefined, at, 'control loops: node heartbeats, the scheduler, events');
    this.background = op;
    return op;
  }

  private newApiOp(kind: TimelineOperation['kind'], key: string | undefined, at: number, title: string): Op {
    const [ns, name] = key ? key.split('/') : [];
    const op = this.newOp(kind, ns === 'default' || !key ? (name ?? '') : key, '', new Trace(), false);
    op.info.startedAt = Math.round(at);
    op.info.title = title;
    op.api = { base: at, steps: [], details: new Map(), nextId: API_STEP_IDS, joined: false, ...(key ? { key } : {}) };
    this.emitOp(op);
    return op;
  }

  private addApi(op: Op, a: ApiActivity): void {
    const api = op.api!;
    if (a.at < api.base) this.rebase(op, a.at);
    const { step, detail } = apiStep(a, ++api.nextId, api.base);
    api.steps.push(step);
    api.details.set(step.id, detail);
    if (!op.dropped) this.session?.emit('timeline.step', { op: op.info.id, step });
    // the end of a pod's operation: the kubelet's status write (create) or its final delete (delete)
    const ends =
      (op.info.kind === 'apiCreate' &&
        a.audit === 'request' &&
        a.who === 'kubelet' &&
        a.sub === 'status' &&
        a.verb === 'patch') ||
      (op.info.kind === 'apiDelete' && a.audit === 'watch' && a.type === 'DELETED');
    if (ends) {
      clearTimeout(api.finishing);
      api.finishing = setTimeout(() => this.finishApi(op), API_LINGER_MS);
    }
  }

  /** A step came from before time zero (lines arrive in any order): zero moves, every step follows. */
  private rebase(op: Op, at: number): void {
    const api = op.api!;
    const d = api.base - at;
    api.base = at;
    op.shift += d;
    op.info.startedAt = Math.round(at);
    const r = (t: number) => Math.round((t + d) * 1000) / 1000;
    api.steps = api.steps.map((s) => ({ ...s, start: r(s.start), ...(s.end !== undefined ? { end: r(s.end) } : {}) }));
    for (const s of api.steps) api.details.set(s.id, { ...api.details.get(s.id)!, step: s });
    if (op.dropped) return;
    for (const s of this.stepsOf(op)) this.session?.emit('timeline.step', { op: op.info.id, step: s });
  }

  /** The kubelet's SyncPod (or KillPod) of a pod whose API operation is open joins it, on its time axis. */
  private joinApiOp(k: {
    kind: TimelineOperation['kind'];
    pod?: string;
    node: string;
    trace: Trace;
    done: Promise<unknown>;
  }): boolean {
    const op = k.pod ? this.apiOps.get(k.pod) : undefined;
    const fits =
      (k.kind === 'syncPod' && op?.info.kind === 'apiCreate') ||
      (k.kind === 'killPod' && op?.info.kind === 'apiDelete');
    if (!op || !fits || op.api!.joined || this.started.has(k.trace)) return false;
    op.api!.joined = true;
    op.off();
    op.trace = k.trace;
    // the trace's time zero on the wall clock, against the operation's
    op.shift = performance.timeOrigin + performance.now() - k.trace.now() - op.api!.base;
    this.listen(op, k.trace);
    op.info.node = k.node;
    this.emitOp(op);
    for (const e of k.trace.events) this.onStep(op, e);
    k.done.then(
      () => {},
      (e: unknown) => {
        op.api!.error = e instanceof Error ? e.message : String(e);
      },
    );
    return true;
  }

  private finishApi(op: Op): void {
    const api = op.api!;
    clearTimeout(api.finishing);
    clearTimeout(api.expiry);
    if (api.key && this.apiOps.get(api.key) === op) this.apiOps.delete(api.key);
    if (op.info.state === 'done' || op.info.state === 'failed') return;
    op.info.state = api.error ? 'failed' : 'done';
    if (api.error) op.info.error = api.error;
    this.emitOp(op);
    if (op.info.kind === 'apiCreate' || op.info.kind === 'apiDelete') this.session?.podsChanged();
  }

  private async finish(op: Op, err?: unknown): Promise<void> {
    op.stepThrough?.continue();
    if (op.removeFault) {
      await op.removeFault().catch(() => {});
      op.removeFault = undefined;
    }
    op.info.state = err === undefined ? 'done' : 'failed';
    if (err !== undefined)
      op.info.error = err instanceof Error ? err.message : typeof err === 'string' ? err : JSON.stringify(err);
    op.info.pause = null;
    if (op.dropped) return;
    if (op.info.fault || err !== undefined)
      op.info.leaks = await this.leaksOf(op).catch((e: unknown) => [
        `(the leak check failed: ${(e as Error).message})`,
      ]);
    if (op.dropped) return;
    op.off();
    this.emitOp(op);
    this.session?.podsChanged();
  }

  /** What the operation left on its node: new leftovers, and any still held by its sandbox or netns. */
  private async leaksOf(op: Op): Promise<string[]> {
    const s = this.session;
    if (!s || !s.world.nodes.has(op.info.node)) return [];
    const before = new Set(op.before ?? []);
    const mine = [op.sandboxId?.slice(0, 16), op.netns?.split('/').pop()].filter((x): x is string => !!x);
    // sandboxes and pod logs are removed by the kubelet's garbage collection, after KillPod: run it first
    await s.kubelet.garbageCollect().catch(() => {});
    // the kernel destroys a netns (and its veth) asynchronously: wait for new interfaces only
    const after = (
      await settledPodLeftovers(s.world, op.info.node, 3000, (items) =>
        items.some((i) => i.startsWith('interface') && !before.has(i)),
      )
    ).items;
    return after
      .filter((i) => !before.has(i) || mine.some((m) => i.includes(m)))
      .map((i) => {
        const r = /^IP reservation (\S+)\/(\S+) /.exec(i);
        return r ? `${i}: ${NODE_PATHS.dataDir}/networks/${r[1]}/${r[2]} is still on ${op.info.node}'s disk` : i;
      });
  }

  /** The step gate of an operation started here: its fault first, then step-through. */
  private gateFor(op: Op) {
    return async (next: PendingStep): Promise<void> => {
      // the real containerd has no inner steps to pause at: its fault lands before the CRI call itself
      const real = this.session?.kubelet.cri(op.info.node).kind === 'containerd';
      const before =
        next.name === 'teardownPodNetwork' || (real && next.component === 'cri' && next.name === 'StopPodSandbox');
      if (op.info.fault?.kind === 'remove-netns' && before && !op.faultApplied) {
        op.faultApplied = true;
        await this.applyRemoveNetns(op, next);
      }
      if (op.stepThrough) await op.stepThrough.gate(next);
    };
  }

  private async applyRemoveNetns(op: Op, next: PendingStep): Promise<void> {
    const s = this.session;
    if (!s || !op.netns) return;
    const ev = op.trace.begin('kernel', 'fault: netns removed', {
      ...(next.parent !== undefined ? { parent: next.parent } : {}),
      pod: op.info.pod,
      node: op.info.node,
      inputs: { path: op.netns },
    });
    try {
      await removeNetns(s.world, op.info.node, op.netns);
      op.trace.finish(ev, { note: `injected: ip netns delete ${op.netns.split('/').pop()} before teardownPodNetwork` });
    } catch (e) {
      op.trace.finish(ev, undefined, e);
    }
  }

  private onPause(op: Op, next: PendingStep | undefined): void {
    const seq = ++op.pauseSeq;
    if (!next) {
      if (op.pauseFrom !== undefined) op.info.pauses.push([op.pauseFrom, op.trace.now()]);
      op.pauseFrom = undefined;
      if (op.info.state === 'paused') op.info.state = 'running';
      op.info.pause = null;
      this.emitPause(op);
      return;
    }
    if (op.pauseFrom === undefined) op.pauseFrom = op.trace.now();
    op.info.state = 'paused';
    const after = op.lastEnded;
    const pause: TimelinePause = {
      next: { component: next.component, name: next.name },
      ...(after ? { after: { component: after.component, name: after.name } } : {}),
      ...(op.netns ? { netns: op.netns } : {}),
    };
    op.info.pause = pause;
    // the pod's links as they are between these two steps (one exec, only while stepping)
    void this.podLinks(op).then((links) => {
      if (seq !== op.pauseSeq || !links) return this.emitPause(op);
      op.info.pause = { ...pause, podLinks: links };
      this.emitPause(op);
    });
  }

  private emitPause(op: Op): void {
    if (op.dropped) return;
    this.session?.emit('timeline.pause', { op: op.info.id, pause: op.info.pause });
    this.emitOp(op);
  }

  private async podLinks(op: Op): Promise<TimelinePause['podLinks']> {
    const s = this.session;
    if (!s || !op.netns) return undefined;
    const node = s.world.nodes.get(op.info.node);
    if (!node || !nodeFolder(s.world, node.name, 'netnsDir').exists(op.netns.split('/').pop()!)) return undefined;
    const r = await s.world
      .exec({ kind: 'pod', node: op.info.node, netns: op.netns }, ['ip', '-json', 'link', 'show'])
      .catch(() => undefined);
    if (!r || r.code !== 0) return undefined;
    try {
      const links = JSON.parse(r.stdout) as { ifname: string; operstate?: string; flags?: string[] }[];
      return links.map((l) => ({
        ifname: l.ifname,
        state: l.operstate ?? 'UNKNOWN',
        up: (l.flags ?? []).includes('UP'),
      }));
    } catch {
      return undefined;
    }
  }

  private op(id: number): Op {
    const op = this.ops.get(id);
    if (!op) throw new ApiError('failed', `no operation ${id} in the timeline (it keeps the last ${HISTORY})`);
    return op;
  }

  private networkPlugins(s: Session, node: string): { network?: string; plugins: string[] } {
    if (!s.world.nodes.has(node))
      throw new ApiError('failed', `no node "${node}" (nodes: ${[...s.world.nodes.keys()].join(', ')})`);
    const network = s.kubelet.runtime(node).loadNetworkConfig().network;
    return network ? { network: network.name, plugins: network.plugins.map((p) => p.type) } : { plugins: [] };
  }

  async ['timeline.list']() {
    return [...this.ops.values()].map((o) => o.info);
  }

  async ['timeline.steps'](p: { op: number }) {
    return this.stepsOf(this.op(p.op));
  }

  async ['timeline.detail'](p: { op: number; step: number }) {
    const op = this.op(p.op);
    const api = op.api?.details.get(p.step);
    if (api) return api;
    const e = op.trace.events.find((x) => x.id === p.step);
    if (!e) throw new ApiError('failed', `operation ${p.op} has no step ${p.step}`);
    const d = detailOf(e);
    return { ...d, step: this.shifted(op, d.step) };
  }

  async ['timeline.plugins'](p: { node: string }) {
    return this.networkPlugins(this.require(), p.node);
  }

  async ['timeline.createPod'](
    p: PodOptions & {
      name: string;
      node: string;
      stepThrough: boolean;
      fault?: TimelineFault | undefined;
    },
  ) {
    const s = this.require();
    const key = Kubelet.key({ name: p.name });
    if (s.kubelet.pods.has(key)) throw new ApiError('failed', `pod ${p.name} already exists: delete it first`);
    const { network, plugins } = this.networkPlugins(s, p.node);
    if (p.fault?.kind === 'remove-netns')
      throw new ApiError(
        'bad-request',
        'the fault "remove the netns before DEL" applies to deleting a pod, not creating one',
      );
    let removeFault: (() => Promise<void>) | undefined;
    let faultNote: string | undefined;
    let before: string[] | undefined;
    if (p.fault?.kind === 'plugin-fails') {
      if (!plugins.includes(p.fault.plugin)) {
        throw new ApiError(
          'failed',
          `plugin ${p.fault.plugin} is not in ${p.node}'s network ${network ?? '(none loaded)'} (its plugins: ${plugins.join(', ') || 'none'}), so failing it would change nothing`,
        );
      }
      before = (await podLeftovers(s.world, p.node)).items;
      try {
        removeFault = await installFailingPlugin(s.world, p.node, p.fault.plugin, p.fault.on);
      } catch (e) {
        throw new ApiError('failed', (e as Error).message);
      }
      faultNote = `${p.fault.plugin} fails on ${p.fault.on === 'ADD' ? 'ADD' : 'ADD and DEL'} on ${p.node}: a wrapper is bound over ${NODE_PATHS.binDir}/${p.fault.plugin} in ${p.node}'s mounts until this operation ends`;
    }
    return this.begin('syncPod', p.name, p.node, p.stepThrough, p.fault, { removeFault, faultNote, before }, (trace) =>
      s.kubelet.syncPod(formPodSpec(p), trace),
    );
  }

  async ['timeline.deletePod'](p: { name: string; stepThrough: boolean; fault?: TimelineFault | undefined }) {
    const s = this.require();
    const pod = s.kubelet.pods.get(Kubelet.key({ name: p.name }));
    if (!pod) throw new ApiError('failed', `no pod ${p.name}`);
    if (p.fault?.kind === 'plugin-fails')
      throw new ApiError(
        'bad-request',
        'the fault "a plugin fails on ADD" applies to creating a pod, not deleting one',
      );
    const node = pod.spec.node;
    const extra = {
      before: p.fault ? (await podLeftovers(s.world, node)).items : undefined,
      faultNote: p.fault
        ? `${pod.netns} is deleted (ip netns delete) just before teardownPodNetwork, so CNI DEL finds no network namespace`
        : undefined,
      sandboxId: pod.sandboxId,
      netns: pod.netns,
    };
    return this.begin('killPod', p.name, node, p.stepThrough, p.fault, extra, (trace) =>
      s.kubelet.killPod(p.name, 'default', trace),
    );
  }

  private begin(
    kind: TimelineOperation['kind'],
    pod: string,
    node: string,
    stepThrough: boolean,
    fault: TimelineFault | undefined,
    extra: {
      removeFault?: (() => Promise<void>) | undefined;
      faultNote?: string | undefined;
      before?: string[] | undefined;
      sandboxId?: string;
      netns?: string;
    },
    run: (trace: Trace) => Promise<unknown>,
  ): TimelineOperation {
    const trace = new Trace();
    const op = this.newOp(kind, pod, node, trace, stepThrough, fault);
    if (extra.removeFault) op.removeFault = extra.removeFault;
    if (extra.faultNote) op.info.faultNote = extra.faultNote;
    if (extra.before) op.before = extra.before;
    if (extra.sandboxId) op.sandboxId = extra.sandboxId;
    if (extra.netns) op.netns = extra.netns;
    if (stepThrough) op.stepThrough = new StepThrough((next) => this.onPause(op, next));
    if (stepThrough || fault) trace.gate = this.gateFor(op);
    this.started.set(trace, op);
    // the outcome is the operation's state (timeline.operation); the request answers at once
    run(trace).catch(() => {});
    if (this.started.get(trace) === op) {
      // the kubelet refused before announcing it (an invalid name): still listed, as failed
      this.started.delete(trace);
      void this.finish(op, new Error('the kubelet did not start the operation'));
    }
    return op.info;
  }

  async ['timeline.next'](p: { op: number }) {
    const op = this.op(p.op);
    if (!op.stepThrough?.next()) throw new ApiError('failed', `operation ${p.op} is not paused`);
    return { ok: true as const };
  }

  async ['timeline.continue'](p: { op: number }) {
    const op = this.op(p.op);
    if (!op.stepThrough || op.info.state === 'done' || op.info.state === 'failed')
      throw new ApiError('failed', `operation ${p.op} is not stepping`);
    op.stepThrough.continue();
    return { ok: true as const };
  }
}
