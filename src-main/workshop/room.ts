// A workshop room: its seats, each one engine (its own world, terminals, lab and progress folder) behind
// its own token; the room code that lets a learner take a seat; what the instructor's view shows.
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  ApiError,
  type EventName,
  type LabChecks,
  type LabView,
  type Method,
  type Payload,
  type PodnetApi,
} from '../api/contract.js';
import { createEngine, type Engine } from '../engine/engine.js';
import type { WorldLimits } from '../world/world.js';
import { TerminalService } from '../terminal/terminal-service.js';
import type { RpcRoute } from '../web/server.js';
import { newRoomCode, newToken, tokenKey } from './secrets.js';

/** The room's limits and places. */
export interface RoomOptions {
  seats: number;
  /** The folder holding each seat's progress (seat-N/progress). */
  stateDir: string;
  labsDir?: string;
  /** A seat's world stops after this long without a request or a keystroke (its progress stays). */
  idleMs: number;
  worldLimits?: Partial<WorldLimits>;
  /** Makes a seat's engine (tests give their own); the real one by default. */
  makeEngine?: (progressDir: string) => Engine;
  /** The room code and the instructor's token, when given (the seat servers of one room on a cluster share them). */
  code?: string;
  instructorToken?: string;
}

/** What the instructor's view shows of one seat. */
export interface SeatSummary {
  id: string;
  name: string;
  world: string;
  lab: { id: string; title: string; steps: number; durationMin: number } | null;
  /** The step the learner is on (0-based), and since when (epoch ms). */
  step: number | null;
  stepSince: number;
  /** A step's share of the lab's stated time, times OVERDUE_FACTOR: past it the learner is flagged. */
  stepBudgetMs: number | null;
  checks: { passed: number; total: number; complete: boolean } | null;
  lastActivity: number;
  busy: string | null;
  /** The world was stopped for idleness: it is rebuilt (progress kept) when the learner comes back. */
  idleStopped: boolean;
  /** Pages open on this seat (the learner's tabs). */
  connected: number;
  /** A read-only view of this seat: the normal page with the seat's watch token (relative URL). */
  mirror: string;
}

/** A learner on one step longer than this many times its share of the lab's stated time is flagged. */
export const OVERDUE_FACTOR = 3;

export function stepBudgetMs(durationMin: number, steps: number): number {
  return (OVERDUE_FACTOR * durationMin * 60_000) / Math.max(1, steps);
}

/** A learner's name: 1–40 letters, digits, spaces and . _ ' - (shown in the instructor's view as text). */
export const NAME_RE = /^[\p{L}\p{N}][\p{L}\p{N} ._'-]{0,39}$/u;

/** Requests that only read a seat (a check is evaluated, never acted on; a view's watch only reads). */
const READS = [
  'world.status',
  'lab.state',
  'lab.list',
  'lab.check',
  'pod.list',
  'terminal.list',
  'terminal.scrollback',
  'netview.namespaces',
  'netview.snapshot',
  'netview.watch',
  'netview.unwatch',
  'netview.topology',
  'netview.watchTopology',
  'netview.unwatchTopology',
];

/** Requests that are reading, not doing: they do not keep a seat's world from going idle. */
const PASSIVE = new Set<string>([...READS, 'terminal.ack']);

/** What a read-only mirror may ask of a seat: reads, and the timeline (its own acks are answered apart). */
const MIRROR_READS = new Set<string>([...READS, 'timeline.list']);

/** Requests that start or rebuild a world themselves: no idle revival on top of them. */
const BUILDS = new Set<string>(['lab.open', 'lab.jump', 'lab.reset', 'world.start', 'world.reset']);

export class JoinError extends Error {
  constructor(
    readonly status: 400 | 403 | 409 | 429,
    message: string,
    /** For a 429: the seconds until a join may come again. */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = 'JoinError';
  }
}

export class Seat {
  readonly token = newToken();
  readonly watchToken = newToken();
  readonly joinedAt = Date.now();
  lastActivity = Date.now();
  view: LabView | null = null;
  stepKey = '';
  stepSince = Date.now();
  checks: LabChecks | null = null;
  world = 'stopped';
  idleStopped = false;
  connected = 0;
  /** The lab a revival reopens (the one open when its world was stopped for idleness). */
  private reviving: Promise<unknown> | undefined;
  readonly route: RpcRoute;
  readonly mirrorRoute: RpcRoute;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly progressDir: string,
    readonly engine: Engine,
    private readonly room: Room,
  ) {
    engine.events.on('event', (event, payload) => this.onEvent(event, payload));
    this.route = {
      api: this.learnerApi(),
      events: engine.events,
      opened: () => {
        this.connected++;
        this.active();
        this.room.changed();
      },
      closed: () => this.left(),
      greeting: () => this.room.greeting(),
    };
    this.mirrorRoute = {
      api: this.mirrorApi(),
      events: engine.events,
      greeting: () => [
        ['workshop.notice', { kind: 'mirror', text: `Read-only mirror of ${this.name}'s seat`, at: Date.now() }],
      ],
    };
  }

  /** A closed page (counted from the server's side of its socket). */
  left(): void {
    this.connected = Math.max(0, this.connected - 1);
    this.room.changed();
  }

  private onEvent(event: EventName, payload: unknown): void {
    if (event === 'lab.changed') this.labView(payload as Payload<'lab.changed'>);
    else if (event === 'lab.checks') {
      this.checks = payload as LabChecks;
      this.room.changed();
    } else if (event === 'world.changed') {
      const state = (payload as Payload<'world.changed'>).state;
      if (state !== this.world) {
        this.world = state;
        this.room.changed();
      }
    }
  }

  /** The lab and step shown: the time on a step counts from when the learner reached it. */
  labView(view: LabView | null): void {
    this.view = view;
    const key = view ? `${view.id}:${view.current}` : '';
    if (key !== this.stepKey) {
      this.stepKey = key;
      this.stepSince = Date.now();
      if (this.checks && (!view || this.checks.lab !== view.id || this.checks.step !== view.current))
        this.checks = null;
    }
    this.room.changed();
  }

  /** A request or keystroke: the seat is in use; a world stopped for idleness is rebuilt (progress kept). */
  active(method?: string): void {
    const was = this.lastActivity;
    this.lastActivity = Date.now();
    if (this.idleStopped && !(method && BUILDS.has(method))) void this.revive();
    else if (method && BUILDS.has(method)) this.idleStopped = false;
    // the instructor's view follows activity, at most every few seconds per seat
    if (this.lastActivity - was > 2000) this.room.changed();
  }

  /** Rebuilds the world of the lab that was open when the seat went idle (its progress restored). */
  revive(): Promise<unknown> {
    if (this.reviving) return this.reviving;
    this.idleStopped = false;
    const lab = this.view?.id;
    this.room.changed();
    if (!lab) return Promise.resolve();
    this.reviving = this.engine.api['lab.open']({ id: lab })
      .then((v) => this.labView(v))
      .catch(() => {})
      .finally(() => (this.reviving = undefined));
    return this.reviving;
  }

  /** Stops the world when the seat has been idle for idleMs; true when it did. */
  async stopIfIdle(now: number, idleMs: number): Promise<boolean> {
    if (this.world !== 'running' || this.reviving || now - this.lastActivity < idleMs) return false;
    this.idleStopped = true;
    await this.engine.api['world.stop']({}).catch(() => {});
    this.room.changed();
    return true;
  }

  private learnerApi(): PodnetApi {
    const api = this.engine.api;
    return new Proxy(api, {
      get: (target, m: string) => {
        const fn = target[m as Method] as ((p: unknown) => Promise<unknown>) | undefined;
        if (typeof fn !== 'function') return fn;
        // seats share one machine and an idle seat holds nothing: no sandbox is started ahead for one
        if (m === 'world.prepare') return async () => ({ ok: true as const });
        return async (p: unknown) => {
          if (!PASSIVE.has(m)) this.active(m);
          const r = await fn(p);
          // a lab's view as answered (an event may not come when no world runs)
          if (m.startsWith('lab.') && r && typeof r === 'object' && 'steps' in r) this.labView(r as LabView);
          if (m === 'lab.close') this.labView(null);
          return r;
        };
      },
    });
  }

  private mirrorApi(): PodnetApi {
    const api = this.engine.api;
    return new Proxy(api, {
      get: (target, m: string) => {
        const fn = target[m as Method] as ((p: unknown) => Promise<unknown>) | undefined;
        if (typeof fn !== 'function') return fn;
        // a mirror's acks would release the learner's terminal before the learner's page has drawn it
        if (m === 'terminal.ack') return async () => ({ ok: true });
        if (m === 'world.prepare') return async () => ({ ok: true as const }); // a hint a mirror's page gives too
        if (!MIRROR_READS.has(m))
          return async () => {
            throw new ApiError('unauthorized', `this is a read-only mirror of ${this.name}'s seat: "${m}" is theirs`);
          };
        return (p: unknown) => fn(p);
      },
    });
  }

  summary(): SeatSummary {
    const v = this.view;
    const c = this.checks && v && this.checks.lab === v.id && this.checks.step === v.current ? this.checks : null;
    return {
      id: this.id,
      name: this.name,
      world: this.world,
      lab: v ? { id: v.id, title: v.title, steps: v.steps.length, durationMin: v.duration } : null,
      step: v ? v.current : null,
      stepSince: this.stepSince,
      stepBudgetMs: v ? stepBudgetMs(v.duration, v.steps.length) : null,
      checks: c
        ? { passed: c.results.filter((r) => r.ok).length, total: c.results.length, complete: c.complete }
        : null,
      lastActivity: this.lastActivity,
      busy: v?.busy ?? null,
      idleStopped: this.idleStopped,
      connected: this.connected,
      mirror: `/?token=${this.watchToken}`,
    };
  }
}

export class Room extends EventEmitter<{ changed: [] }> {
  readonly code: string;
  readonly instructorToken: string;
  private readonly seats = new Map<string, Seat>();
  private readonly byToken = new Map<string, { seat: Seat; mirror: boolean }>();
  private lastMessage: Payload<'workshop.notice'> | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private changeTimer: NodeJS.Timeout | undefined;
  private seq = 0;

  constructor(readonly opts: RoomOptions) {
    super();
    this.code = opts.code?.toUpperCase() ?? newRoomCode();
    this.instructorToken = opts.instructorToken ?? newToken();
    // idle worlds are looked for a few times per idle period (at most once a minute, at least once a second)
    const every = Math.max(1000, Math.min(60_000, opts.idleMs / 4));
    this.idleTimer = setInterval(() => void this.stopIdle(), every);
    this.idleTimer.unref();
  }

  get size(): number {
    return this.seats.size;
  }

  /** The room code a join must carry (compared in constant time by hash, like a token). */
  codeOk(code: string | null | undefined): boolean {
    return !!code && tokenKey(code.toUpperCase()) === tokenKey(this.code);
  }

  /** A new seat for a learner, or why not: a bad name, a name already taken, the room full. */
  join(rawName: unknown): Seat {
    if (typeof rawName !== 'string') throw new JoinError(400, 'a name is needed: {"name": "…"}');
    const name = rawName.normalize('NFC').trim().replace(/\s+/g, ' ');
    if (!NAME_RE.test(name))
      throw new JoinError(
        400,
        "a name is 1 to 40 letters, digits, spaces and . _ ' - (starting with a letter or digit): choose another",
      );
    const taken = [...this.seats.values()].some((s) => s.name.toLowerCase() === name.toLowerCase());
    // a duplicate never gets the other learner's seat (its token is theirs): it is told to choose another name
    if (taken)
      throw new JoinError(
        409,
        `the name "${name}" is taken in this room: choose another, or reopen your seat's own URL if it is yours`,
      );
    if (this.seats.size >= this.opts.seats)
      throw new JoinError(409, `all ${this.opts.seats} seats of this room are taken: ask the instructor`);
    const id = `s${++this.seq}`;
    const progressDir = join(this.opts.stateDir, `seat-${this.seq}`, 'progress');
    mkdirSync(progressDir, { recursive: true, mode: 0o700 });
    const engine =
      this.opts.makeEngine?.(progressDir) ??
      createEngine({
        terminals: (world, resolvePod) => new TerminalService(world, resolvePod),
        labs: { ...(this.opts.labsDir ? { dir: this.opts.labsDir } : {}), progressDir },
        ...(this.opts.worldLimits ? { worldLimits: this.opts.worldLimits } : {}),
      });
    const seat = new Seat(id, name, progressDir, engine, this);
    this.seats.set(id, seat);
    this.byToken.set(tokenKey(seat.token), { seat, mirror: false });
    this.byToken.set(tokenKey(seat.watchToken), { seat, mirror: true });
    this.changed();
    return seat;
  }

  /** The route a token reaches: its seat (the learner's), or its seat's read-only mirror. */
  route(token: string): (RpcRoute & { seat: Seat; mirror: boolean }) | undefined {
    const hit = this.byToken.get(tokenKey(token));
    if (!hit) return undefined;
    return { ...(hit.mirror ? hit.seat.mirrorRoute : hit.seat.route), seat: hit.seat, mirror: hit.mirror };
  }

  list(): Seat[] {
    return [...this.seats.values()];
  }

  isInstructor(token: string | undefined): boolean {
    return !!token && tokenKey(token) === tokenKey(this.instructorToken);
  }

  /** What each new learner page gets first: the instructor's last message, if any. */
  greeting(): [EventName, unknown][] {
    return this.lastMessage ? [['workshop.notice', this.lastMessage]] : [];
  }

  /** A message shown on every seat's page (and on a page opened later). */
  message(text: string): void {
    const t = text.trim().slice(0, 500);
    if (!t) throw new ApiError('bad-request', 'the message is empty: type something to send');
    this.lastMessage = { kind: 'message', text: t, at: Date.now() };
    for (const s of this.seats.values()) s.engine.events.emit('event', 'workshop.notice', this.lastMessage);
  }

  /** Resets a seat: its open lab starts again at step 1 (a fresh world, its progress cleared), or its free-play world afresh. */
  async reset(id: string): Promise<string> {
    const seat = this.seats.get(id);
    if (!seat) throw new ApiError('bad-request', `no seat "${id}" in this room`);
    seat.active('lab.reset');
    if (seat.view) {
      seat.labView(await seat.engine.api['lab.reset']({}));
      return `${seat.name}'s lab starts again at step 1`;
    }
    if (seat.world === 'running') {
      await seat.engine.api['world.reset']({});
      return `${seat.name}'s world was started afresh`;
    }
    return `${seat.name} has no lab and no world: nothing to reset`;
  }

  /** Opens a lab in every seat (two worlds built at a time: the machine's cores are shared). */
  async assign(lab: string): Promise<string> {
    const queue = [...this.seats.values()];
    const failed: string[] = [];
    const worker = async () => {
      for (let s = queue.shift(); s; s = queue.shift()) {
        s.active('lab.open');
        try {
          s.labView(await s.engine.api['lab.open']({ id: lab }));
        } catch (e) {
          failed.push(`${s.name}: ${(e as Error).message}`);
        }
      }
    };
    await Promise.all([worker(), worker()]);
    if (failed.length) throw new ApiError('failed', `lab ${lab} did not open for ${failed.join('; ')}`);
    return `lab ${lab} is open in every seat (${this.seats.size})`;
  }

  /** Stops the worlds of seats idle for idleMs. */
  async stopIdle(now = Date.now()): Promise<number> {
    let n = 0;
    for (const s of this.seats.values()) if (await s.stopIfIdle(now, this.opts.idleMs)) n++;
    return n;
  }

  /** The instructor's view changed: told once the burst settles. */
  changed(): void {
    if (this.changeTimer) return;
    this.changeTimer = setTimeout(() => {
      this.changeTimer = undefined;
      this.emit('changed');
    }, 150);
    this.changeTimer.unref();
  }

  summaries(): SeatSummary[] {
    return this.list().map((s) => s.summary());
  }

  /** Ends every seat's engine: terminals and worlds. */
  async dispose(): Promise<void> {
    clearInterval(this.idleTimer);
    clearTimeout(this.changeTimer);
    await Promise.all([...this.seats.values()].map((s) => s.engine.dispose().catch(() => {})));
  }
}
