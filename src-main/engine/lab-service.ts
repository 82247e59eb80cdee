// The contract's implementation: one lab session (a world, its kubelet, its terminals) behind the
// requests of api/contract.ts, with its events. Both hosts serve exactly this.
import type { RuntimeKind } from '../runtime/cri-runtime.js';
import { EventEmitter } from 'node:events';
import { doctorFix } from '../world/doctor.js';
import { describePluginSet } from '../world/paths.js';
import { MODELLED_LINE } from '../runtime/sources.js';
import { bridgeConfList, DEFAULT_CONF_FILE } from '../cni/defaults.js';
import { Kubelet, type Pod } from '../runtime/kubelet.js';
import { formPodSpec, furnishWorld, newKubelet, type WorldSpec } from '../session/world-spec.js';
import type { TerminalHost } from '../terminal/types.js';
import { nodeFolder } from '../fs/world-files.js';
import { createWorld, type World, type WorldLimits } from '../world/world.js';
import { WorldInitReserve } from '../world/world-init-reserve.js';
import {
  ApiError,
  type EventName,
  type Params,
  type Payload,
  type PodInfo,
  type PodnetApi,
  type PodOptions,
  type WorldStatus,
} from '../api/contract.js';
import type { Session, SessionPart } from '../session/session.js';
import type { ApiActivity } from '../api/api-activity.js';
import { ControlPlaneHost } from './control-plane-host.js';
import { PathFollowParams } from '../api/contract.js';
import { PathFollower } from '../path/path-service.js';
import { podsOf, worldServiceOf } from '../path/serve-follows.js';
import type { FollowWorld } from '../path/follow-in-world.js';
import { listenEngineSocket, type EngineSocket } from '../world/engine-socket.js';

export type TerminalFactory = (
  world: World,
  resolvePod: (name: string) => { node: string; netns: string; sandboxPid?: number } | undefined,
) => TerminalHost;

/** How long a memory kill stays the world's reported error (it is an event, not a state). */
export const MEMORY_KILL_SHOWN_MS = 60_000;

/** How often the runtime's Status is polled, as kubelet's updateRuntimeUp does. */
export const STATUS_INTERVAL_MS = 5000;

/** The control plane starts once a terminal's first output is out, or this long after the world runs. */
export const CONTROL_PLANE_DELAY_MS = 800;

type SessionMethods =
  | 'world.status'
  | 'world.start'
  | 'world.stop'
  | 'world.reset'
  | 'pod.list'
  | 'pod.create'
  | 'pod.delete'
  | `terminal.${'open' | 'input' | 'resize' | 'ack' | 'close' | 'list' | 'scrollback'}`
  | 'path.follow';

/** A world's start under way: cancelled by whom, and in free play, when its nodes (and node1's shell) are up. */
interface Starting {
  world?: World;
  cancelledBy?: string;
  nodesUp?: Promise<void>;
  /** The nodes exist and the terminal host is made: a node's terminal may open before the world runs. */
  terminalsReady?: boolean;
  /** A terminal's first output went out before the world ran (free play's node1 prompt usually does). */
  terminalHeard?: boolean;
}

/** The session itself: world, pods and terminals; the other parts of the contract attach to it. */
export class LabService
  extends EventEmitter<{ event: [EventName, unknown] }>
  implements Pick<PodnetApi, SessionMethods>
{
  private world: World | undefined;
  private kubelet: Kubelet | undefined;
  private terminals: TerminalHost | undefined;
  private state: WorldStatus['state'] = 'stopped';
  private error: { error: string; fix?: string } | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  /** The nodes as last sent in world.changed, by whichever path sent it: the status loop sends only a change from these. */
  private sentNodes = '';
  /** Set while the running world is at its process limit. */
  private limitMessage: string | undefined;
  /** Set while the running world is broken (its processes killed) or its disk is full (World.trouble). */
  private troubleMessage: string | undefined;
  /** The nodes whose processes were killed, as the last trouble check found (they are not Ready). */
  private goneNodes = new Set<string>();
  /** The memory watch's last report (a process it killed), until MEMORY_KILL_SHOWN_MS after. */
  private memoryMessage: { text: string; until: number } | undefined;
  private lastNodes = 2;
  /** The spec the running world was built from (a lab's), so world.reset rebuilds the same world. */
  private lastSpec: WorldSpec | undefined;
  /** The runtime of the last free-play world (a lab's spec names its own). */
  private lastRuntime: RuntimeKind = 'model';
  /** Serialises world start/stop/reset: one at a time. */
  private lifecycle: Promise<unknown> = Promise.resolve();
  /** The start under way (a lab's world being built and prepared), which a stop, reset or dispose cancels. */
  private starting: Starting | undefined;
  /**
   * The parts' attach to the running world. The world is reported running (terminals and pods work)
   * without waiting for it; a part's requests wait for its own (partAttached), and a stop for all.
   */
  private attached: Promise<void> = Promise.resolve();
  /** Each part's own attach to the running world (the last world's, between worlds). */
  private partAttach = new Map<SessionPart, Promise<void>>();
  /** The running world's control plane (free play; a lab that asks), started in the background. */
  private controlPlane: ControlPlaneHost | undefined;
  /** The parts that follow the control plane's activity (the timeline's control-plane lane). */
  private readonly apiListeners = new Set<(a: ApiActivity) => void>();
  /** Follow a packet (path.follow, and `podnet path FROM TO` in a node through the engine socket): one at a time. */
  private readonly paths = new PathFollower();
  /** The running world's engine socket (ENGINE_SOCKET in every node): podnet path's way to the engine. */
  private engineSocket: EngineSocket | undefined;
  /** Where the last start went, in ms (the benchmark prints them): the world, its furnishing, the parts' attach. */
  lastStart = { world: 0, furnish: 0, attach: 0 };

  constructor(
    private readonly makeTerminals: TerminalFactory,
    private readonly parts: readonly SessionPart[] = [],
    /** Bounds for the worlds this session starts (DEFAULT_LIMITS where not given). */
    private readonly limits: Partial<WorldLimits> = {},
  ) {
    super();
  }

  /** The running world, if any: for tests and benchmarks that look at the kernel behind the UI. */
  get runningWorld(): World | undefined {
    return this.state === 'running' ? this.world : undefined;
  }

  /** The running world's kubelet, if any: for tests that ask what its nodes run on. */
  get runningKubelet(): Kubelet | undefined {
    return this.state === 'running' ? this.kubelet : undefined;
  }

  private emitEvent<E extends EventName>(event: E, payload: Payload<E>): void {
    this.emit('event', event, payload);
  }

  /** WorldHost.broadcast: an event for every client, with or without a running world. */
  broadcast<E extends EventName>(event: E, payload: Payload<E>): void {
    this.emitEvent(event, payload);
  }

  private status(): WorldStatus {
    const nodes =
      this.world && this.kubelet && this.state === 'running'
        ? [...this.world.nodes.values()].map((n) => {
            const rt = this.kubelet!.runtime(n.name);
            const cri = this.kubelet!.cri(n.name);
            // a node whose processes were killed is not Ready, whatever its config says
            const c = this.goneNodes.has(n.name)
              ? {
                  status: false,
                  reason: 'NodeGone',
                  message: `the processes of ${n.name} were killed: reset the world`,
                }
              : cri.networkReady();
            return {
              name: n.name,
              underlayIp: n.underlayIp,
              podCidr: n.podCidr,
              loopback: rt.loopback,
              networkReady: { status: c.status, reason: c.reason, message: c.message },
              lastCNILoadStatus: cri.lastCNILoadStatus,
              runtime: this.kubelet!.runtimeOf(n.name),
            };
          })
        : [];
    const reports = [this.troubleMessage, this.limitMessage, this.memoryMessage?.text].filter(
      (m): m is string => m !== undefined,
    );
    return {
      state: this.state,
      nodes,
      ...(this.error ?? (reports.length ? { error: reports.join('\n') } : {})),
      ...(this.state === 'running' ? { fidelity: this.fidelity() } : {}),
      ...(this.state === 'running' && this.controlPlane ? { controlPlane: this.controlPlane.state } : {}),
    };
  }

  private fidelityLine?: { modelled: string; plugins: string };

  /** What is modelled and which real plugins the world runs: read once, the set does not change under a running app. */
  private fidelity(): { modelled: string; plugins: string } {
    return (this.fidelityLine ??= { modelled: MODELLED_LINE, plugins: describePluginSet() });
  }

  private changed(): WorldStatus {
    const s = this.status();
    this.sentNodes = JSON.stringify(s.nodes);
    this.emitEvent('world.changed', s);
    return s;
  }

  private podInfo(p: Pod): PodInfo {
    return {
      name: p.spec.name,
      namespace: p.spec.namespace ?? 'default',
      node: p.spec.node,
      ip: p.ip,
      netns: p.netns,
      sandboxId: p.sandboxId,
      ready: p.conditions.Ready,
    };
  }

  /** The kubelet's pods, and the API's (Pending, Running, Terminating) with what the kubelet made of them. */
  private pods(): PodInfo[] {
    const made = new Map([...(this.kubelet?.pods ?? [])]);
    const cp = this.controlPlane;
    const fromApi = cp ? [...cp.pods].map(([key, o]) => cp.podInfo(o, made.get(key))) : [];
    const direct = [...made].filter(([key]) => !cp?.pods.has(key)).map(([, p]) => this.podInfo(p));
    return [...direct, ...fromApi];
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lifecycle.then(fn, fn);
    this.lifecycle = next.catch(() => {});
    return next;
  }

  private requireWorld(): { world: World; kubelet: Kubelet; terminals: TerminalHost } {
    if (!this.world || !this.kubelet || !this.terminals || this.state !== 'running')
      throw new ApiError('failed', 'no world is running: start one first');
    return { world: this.world, kubelet: this.kubelet, terminals: this.terminals };
  }

  async ['world.status']() {
    return this.status();
  }

  /** The sandbox of the next world, started ahead while none runs (the page asks once it shows a stopped world). */
  readonly reserve = new WorldInitReserve();

  ['world.prepare']() {
    if ((this.state === 'stopped' || this.state === 'failed') && !this.starting) this.reserve.prepare(this.limits);
    return { ok: true as const };
  }

  ['world.start'](p: { nodes: number; runtime?: RuntimeKind }) {
    return this.serial(() => this.start(p.nodes, undefined, p.runtime));
  }

  /** Starts the world afresh from a spec (a lab's starting world): whatever runs is stopped first. */
  restartFrom(spec: WorldSpec, asker?: SessionPart): Promise<WorldStatus> {
    return this.serial(async () => {
      if (this.world) await this.stop();
      const status = await this.start(spec.nodes.length, spec);
      // the part that asked (a lab) goes on once it is attached; the others go on attaching alongside
      await ((asker && this.partAttach.get(asker)) ?? this.attached);
      return status;
    });
  }

  /** Settles once every part is attached to the running world (or failed to be): a stop waits for it. */
  partsAttached(): Promise<void> {
    return this.attached.catch(() => {});
  }

  /** Settles once this part is attached to the running world (or failed to be): its requests wait for it. */
  partAttached(part: SessionPart): Promise<void> {
    return (this.partAttach.get(part) ?? this.attached).catch(() => {});
  }

  /** A part could not attach to a world already reported running: the world ends, failed, with the part's reason. */
  private async failAttach(world: World, e: Error): Promise<void> {
    if (this.world !== world) return;
    await this.stop();
    this.state = 'failed';
    this.error = { error: e.message };
    this.changed();
  }

  private async start(nodes: number, spec?: WorldSpec, runtime: RuntimeKind = 'model'): Promise<WorldStatus> {
    if (this.state === 'running')
      throw new ApiError(
        'failed',
        `a world is already running (${this.world!.nodes.size} nodes): stop or reset it first`,
      );
    this.state = 'starting';
    this.error = undefined;
    this.lastNodes = nodes;
    this.lastSpec = spec;
    this.lastRuntime = runtime;
    this.changed();
    const total = 3;
    const progress = (done: number, step: string) =>
      this.emitEvent('world.progress', { task: 'world.start', step, done, total });
    let made: World | undefined;
    const starting: Starting = {};
    let shellsUp = () => {};
    if (!spec) starting.nodesUp = new Promise<void>((r) => (shellsUp = r));
    this.starting = starting;
    try {
      progress(0, `creating the sandbox and ${nodes} node${nodes > 1 ? 's' : ''}`);
      let t = performance.now();
      // free play: node1's shell starts as soon as node1 exists, while the world is wired and its configs
      // written, for the terminal the page asks for with the start (issue #18's start path)
      const onNodesUp = (w: World) => {
        made = w; // a start that fails from here on ends the shell with the world
        this.terminalsOf(w).prepare?.([...w.nodes.keys()].slice(0, 1));
        starting.terminalsReady = true;
        shellsUp();
      };
      const world = (made = await createWorld({
        nodes: spec?.nodes ?? nodes,
        limits: this.limits,
        reserve: this.reserve,
        controlPlaneSoon: !spec || spec.controlPlane === true,
        ...(spec ? {} : { onNodesUp }),
      }));
      this.lastStart = { world: performance.now() - t, furnish: 0, attach: 0 };
      t = performance.now();
      starting.world = world;
      if (starting.cancelledBy) throw new Error(`cancelled by ${starting.cancelledBy}`);
      this.world = world;
      // bound now, before any lab command runs in the world (engine-socket.ts says why)
      this.engineSocket = await listenEngineSocket(world, {
        'path.follow': { params: PathFollowParams, run: (p: PathFollowParams) => this.followPath(p) },
      });
      // the memory watch killed a lab process: the UI says who, at once
      const onMemory = (m: { message: string }) => {
        this.memoryMessage = { text: m.message, until: Date.now() + MEMORY_KILL_SHOWN_MS };
        if (this.world === world) this.changed();
      };
      world.memory?.on('kill', onMemory).on('over', onMemory);
      if (spec) {
        this.kubelet = newKubelet(world, spec);
        await furnishWorld(world, this.kubelet, spec, (what) => progress(1, what));
      } else {
        progress(1, "writing each node's CNI config (bridge + host-local)");
        for (const n of world.nodes.values())
          nodeFolder(world, n.name, 'confDir').writeFileAtomic(DEFAULT_CONF_FILE, bridgeConfList(n.podCidr));
        this.kubelet = new Kubelet(world);
        if (runtime === 'containerd') {
          progress(1, 'starting the real containerd 2.1.9 on each node');
          await this.kubelet.useRealContainerd();
        }
      }
      this.lastStart.furnish = performance.now() - t;
      progress(2, 'starting the runtime');
      const terminals = this.terminalsOf(world);
      const session: Session = {
        world,
        kubelet: this.kubelet,
        emit: (event, payload) => this.emitEvent(event, payload),
        events: this,
        podsChanged: () => this.emitEvent('pods.changed', this.pods()),
        onApiActivity: (fn) => {
          this.apiListeners.add(fn);
          return () => void this.apiListeners.delete(fn);
        },
      };
      if (starting.cancelledBy) throw new Error(`cancelled by ${starting.cancelledBy}`);
      // the parts attach in order, none waiting for another's reads: the live views' first read of every
      // namespace holds back neither a terminal's prompt nor a lab's checks (an async function: a part whose
      // attach throws gives a rejected promise)
      const t0 = performance.now();
      const attachOne = async (part: SessionPart) => part.attach(session);
      const each = new Map(this.parts.map((part) => [part, attachOne(part)]));
      this.partAttach = each;
      const attached = Promise.all(each.values()).then(() => void (this.lastStart.attach = performance.now() - t0));
      this.attached = attached;
      attached.catch((e: Error) => void this.serial(() => this.failAttach(world, e)).catch(() => {}));
      this.starting = undefined;
      this.state = 'running';
      progress(3, 'ready');
      // shells started ahead on the first nodes, after "running" is on its way: a first terminal finds its prompt
      setImmediate(() => this.world === world && terminals.prepare?.([...world.nodes.keys()]));
      if (!spec || spec.controlPlane) this.startControlPlaneSoon(world, this.kubelet, starting.terminalHeard === true);
      // kubelet's Status loop: NetworkReady changes (a config edited in a terminal) reach the status bar
      this.statusTimer = setInterval(() => {
        const full = [this.reportTrouble(world), this.reportProcessLimit(world), this.expireMemoryMessage()].some(
          Boolean,
        );
        // compared with what was last sent, not last seen here: the control plane's changes send the nodes too
        if (full || JSON.stringify(this.status().nodes) !== this.sentNodes) this.changed();
      }, STATUS_INTERVAL_MS);
      this.statusTimer.unref();
      this.emitEvent('pods.changed', this.pods());
      return this.changed();
    } catch (e) {
      if (this.starting === starting) this.starting = undefined;
      // a cancelled start fails as cancelled, whatever step the ending world broke
      const why = starting.cancelledBy
        ? `cancelled by ${starting.cancelledBy} while it was being built`
        : (e as Error).message;
      // whatever was made goes: a world that failed half-way leaves nothing running
      if (made) {
        await this.closeEngineSocket();
        await this.stopControlPlane();
        for (const part of [...this.parts].reverse()) await Promise.resolve(part.detach()).catch(() => {});
        this.terminals?.dispose();
        this.kubelet?.stop();
        await made.destroy().catch(() => {});
        this.world = undefined;
        this.kubelet = undefined;
        this.terminals = undefined;
      }
      this.state = 'failed';
      const fix = doctorFix();
      this.error = { error: why, ...(fix ? { fix } : {}) };
      this.changed();
      throw new ApiError('failed', `the world could not start: ${why}`);
    }
  }

  /**
   * The control plane, in the background: kubectl in the nodes waits for it meanwhile. The first prompt
   * comes first: etcd and the API server's Node.js start once a terminal's first output is out (the
   * renderer opens node1 with the start: its prompt usually goes out before the world runs, `promptOut`),
   * or CONTROL_PLANE_DELAY_MS after, whichever is sooner.
   */
  private startControlPlaneSoon(world: World, kubelet: Kubelet, promptOut: boolean): void {
    const host = new ControlPlaneHost(world, kubelet);
    this.controlPlane = host;
    const mine = () => this.controlPlane === host && this.world === world;
    host.on('changed', () => {
      if (!mine()) return;
      this.changed();
      this.emitEvent('pods.changed', this.pods());
    });
    host.on('pods', () => mine() && this.emitEvent('pods.changed', this.pods()));
    host.on('activity', (a) => {
      for (const fn of this.apiListeners) fn(a);
    });
    void host.announce();
    const go = () => {
      clearTimeout(timer);
      this.off('event', onEvent);
      if (mine()) void host.start();
    };
    const onEvent = (name: EventName) => name === 'terminal.data' && go();
    // the prompt went out while the world was being built: nothing to wait for once "running" is on its way
    const timer = setTimeout(go, promptOut ? 0 : CONTROL_PLANE_DELAY_MS);
    this.on('event', onEvent);
  }

  private async stopControlPlane(): Promise<void> {
    const host = this.controlPlane;
    this.controlPlane = undefined;
    this.apiListeners.clear();
    await host?.stop();
  }

  /** The world's terminal service, made once per world (free play makes it as soon as the world exists). */
  private terminalsOf(world: World): TerminalHost {
    if (this.terminals) return this.terminals;
    const terminals = this.makeTerminals(world, (name) => {
      const pod = this.kubelet?.podByName(name);
      return pod ? { node: pod.spec.node, netns: pod.netns, sandboxPid: pod.sandboxPid } : undefined;
    });
    terminals.on('data', (d) => {
      if (this.starting) this.starting.terminalHeard = true;
      this.emitEvent('terminal.data', d);
    });
    terminals.on('exit', (d) => this.emitEvent('terminal.exit', d));
    return (this.terminals = terminals);
  }

  /** A world at its process limit (a fork bomb in a terminal?) is reported as the world's error, and cleared after. True when that changed. */
  private reportProcessLimit(world: World): boolean {
    let full: boolean;
    try {
      full = world.atProcessLimit();
    } catch {
      return false; // the world is ending
    }
    const message = full
      ? `the world has reached its limit of ${world.limits.processes} processes: nothing new can start in it until some end (a fork bomb? end it in its terminal, or reset the world)`
      : undefined;
    if (message === this.limitMessage) return false;
    this.limitMessage = message;
    return true;
  }

  /** A world whose own processes were killed, or whose disk is full, says so (and that a reset helps). True when that changed. */
  private reportTrouble(world: World): boolean {
    const trouble = world.trouble();
    if (trouble?.message === this.troubleMessage) return false;
    this.troubleMessage = trouble?.message;
    this.goneNodes = new Set(trouble?.goneNodes);
    return true;
  }

  /** A memory kill's report ends after a while. True when it did. */
  private expireMemoryMessage(): boolean {
    if (!this.memoryMessage || Date.now() < this.memoryMessage.until) return false;
    this.memoryMessage = undefined;
    return true;
  }

  /**
   * Cancels a start under way (a hung prepare command must not hold a stop, a reset or the engine's end):
   * its world is destroyed now, which ends whatever of it was running, and the start fails as cancelled.
   */
  private cancelStart(by: string): void {
    const s = this.starting;
    if (!s || s.cancelledBy) return;
    s.cancelledBy = by;
    void s.world?.destroy().catch(() => {});
  }

  ['world.stop']() {
    this.cancelStart('world.stop');
    return this.serial(() => this.stop());
  }

  private async stop(): Promise<WorldStatus> {
    if (!this.world) {
      this.state = 'stopped';
      return this.changed();
    }
    this.state = 'stopping';
    clearInterval(this.statusTimer);
    this.limitMessage = undefined;
    this.troubleMessage = undefined;
    this.goneNodes.clear();
    this.memoryMessage = undefined;
    this.changed();
    // nothing in the world asks the engine any more
    await this.closeEngineSocket();
    // the control loops stop driving the kubelet, then the API server and etcd stop
    await this.stopControlPlane();
    // parts let go of the world before it ends (in reverse: a later part may lean on an earlier one)
    await this.attached.catch(() => {});
    for (const part of [...this.parts].reverse()) await Promise.resolve(part.detach()).catch(() => {});
    this.terminals?.dispose();
    // Ending the world ends every pod with it: no per-pod teardown is needed to leave nothing behind.
    // the real containerd's connections close; its processes end with the world
    const closing = this.kubelet?.close();
    await this.world.destroy();
    await closing;
    this.world = undefined;
    this.kubelet = undefined;
    this.terminals = undefined;
    this.state = 'stopped';
    this.emitEvent('pods.changed', []);
    return this.changed();
  }

  ['world.reset']() {
    this.cancelStart('world.reset');
    return this.serial(async () => {
      const nodes = this.world?.nodes.size ?? this.lastNodes;
      await this.stop();
      return this.start(nodes, this.lastSpec, this.lastRuntime);
    });
  }

  async ['pod.list']() {
    return this.pods();
  }

  async ['pod.create'](p: { name: string; node: string } & PodOptions) {
    const { kubelet } = this.requireWorld();
    try {
      const pod = await kubelet.syncPod(formPodSpec(p));
      this.emitEvent('pods.changed', this.pods());
      this.changed();
      return this.podInfo(pod);
    } catch (e) {
      throw new ApiError('failed', `pod ${p.name} could not be created on ${p.node}: ${(e as Error).message}`);
    }
  }

  async ['pod.delete'](p: { name: string }) {
    const { kubelet } = this.requireWorld();
    // a pod of the API goes as kubectl delete makes it go: the API marks it, its kubelet stops it
    const apiPod = [...(this.controlPlane?.pods.values() ?? [])].find((o) => o.metadata?.name === p.name);
    if (apiPod && this.controlPlane) {
      try {
        await this.controlPlane.deletePod(apiPod.metadata?.namespace ?? 'default', p.name);
      } catch (e) {
        throw new ApiError('failed', `pod ${p.name} could not be deleted through the API: ${(e as Error).message}`);
      }
      return { ok: true as const };
    }
    try {
      await kubelet.killPod(p.name);
    } catch (e) {
      throw new ApiError('failed', `pod ${p.name} could not be deleted: ${(e as Error).message}`);
    }
    this.emitEvent('pods.changed', this.pods());
    return { ok: true as const };
  }

  private term<T>(fn: (t: TerminalHost) => T): T {
    // a node's terminal works from the moment the nodes exist in a free-play start (see terminal.open)
    const early = this.state !== 'running' && this.starting?.terminalsReady ? this.terminals : undefined;
    const terminals = early ?? this.requireWorld().terminals;
    try {
      return fn(terminals);
    } catch (e) {
      throw new ApiError('failed', (e as Error).message);
    }
  }

  async ['terminal.open'](p: Params<'terminal.open'>) {
    // asked for with a world's start (free play opens node1's right behind it, maybe in the same socket
    // read, before the start has begun): a node's opens once the nodes exist (its shell was started then,
    // and the prompt need not wait for the configs and the status), anything else once the start is done
    if (this.state !== 'running') {
      // a start in this same socket read has begun by then (its first wait is createWorld's I/O)
      await new Promise((r) => setImmediate(r));
      const nodesUp = p.target.kind === 'node' ? this.starting?.nodesUp : undefined;
      await (nodesUp ? Promise.race([nodesUp, this.lifecycle]) : this.lifecycle);
    }
    return this.term((t) => t.open(p.target, p.cols, p.rows));
  }
  async ['terminal.input'](p: { id: string; data: string }) {
    return this.term((t) => (t.input(p.id, p.data), { ok: true as const }));
  }
  async ['terminal.resize'](p: { id: string; cols: number; rows: number }) {
    return this.term((t) => (t.resize(p.id, p.cols, p.rows), { ok: true as const }));
  }
  async ['terminal.ack'](p: { id: string; bytes: number }) {
    return this.term((t) => (t.ack(p.id, p.bytes), { ok: true as const }));
  }
  async ['terminal.close'](p: { id: string }) {
    return this.term((t) => (t.close(p.id), { ok: true as const }));
  }
  async ['terminal.list']() {
    return this.terminals?.list() ?? [];
  }
  async ['terminal.scrollback'](p: { id: string }) {
    return this.term((t) => ({ data: Buffer.from(t.scrollback(p.id)).toString('base64') }));
  }

  private async closeEngineSocket(): Promise<void> {
    const s = this.engineSocket;
    this.engineSocket = undefined;
    await s?.close();
  }

  /** The running world as a follow sees it: its pods (the kubelet's), its Services (the API's, once ready). */
  private followWorld(): FollowWorld | undefined {
    if (this.state !== 'running' || !this.world || !this.kubelet) return undefined;
    const kubelet = this.kubelet;
    const cp = this.controlPlane;
    return {
      world: this.world,
      pods: podsOf(kubelet),
      ...(cp?.state.state === 'ready'
        ? {
            service: async (name: string) => {
              const o = await cp.service(name);
              return o && worldServiceOf(o);
            },
          }
        : {}),
    };
  }

  /** Follows one packet in the running world; every client hears of it (path.followed), whoever asked. */
  private async followPath(asked: PathFollowParams) {
    // only the contract's fields go on (a host's caller validated them; an in-process one may not have)
    const p: PathFollowParams = {
      from: asked.from,
      to: asked.to,
      kind: asked.kind,
      ...(asked.port !== undefined ? { port: asked.port } : {}),
    };
    let result;
    try {
      result = await this.paths.follow(this.followWorld(), p);
    } catch (e) {
      throw new ApiError('failed', (e as Error).message);
    }
    this.emitEvent('path.followed', { request: p, result });
    return result;
  }

  async ['path.follow'](p: PathFollowParams) {
    return this.followPath(p);
  }

  /** Ends the session: terminals, the world, timers. Hosts call it on quit, Ctrl-C and SIGTERM. */
  async dispose(): Promise<void> {
    this.cancelStart('the engine ending');
    await this.serial(() => this.stop());
    await this.reserve.dispose();
  }
}
