// Watches one namespace live: `ip monitor` wakes it on each netlink event, and a debounced re-read
// turns a burst of events into one snapshot and one diff.
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { ExitStatus } from '../world/world-init.js';
import type { Target, World, WorldProcess } from '../world/world.js';
import { diffSnapshots, isEmptyDiff, type SnapshotDiff } from './diff.js';
import { readNamespace, type NetSnapshot } from './snapshot.js';

export interface NetChange {
  target: Target;
  snapshot: NetSnapshot;
  diff: SnapshotDiff;
  /** performance.now() of the first event this change covers (for latency). */
  firstEventAt: number;
}

export interface NetMonitorOptions {
  /** Quiet time after the last event before re-reading. */
  debounceMs?: number;
  /** A steady stream of events still gets a read at least this often. */
  maxWaitMs?: number;
  /** How long to wait for `ip monitor` to subscribe. */
  readyTimeoutMs?: number;
}

// iproute2 6.1 accepts -json for monitor but prints plain text anyway: the lines are only a trigger.
export const MONITOR_OBJECTS = 'link address route neigh';
/** How often the engine looks whether a monitor has subscribed (each look reads two small /proc files). */
const POLL_MS = 3;

/**
 * Starts `ip monitor` of MONITOR_OBJECTS in a target: one exec, no shell. `details`: `ip -d` (a link's kind in
 * its lines); `allNsid`: the events of every namespace the target holds an nsid for, too.
 */
export function spawnMonitor(
  world: World,
  target: Target,
  opts: { details?: boolean; allNsid?: boolean } = {},
): WorldProcess {
  return world.spawn(target, [
    'ip',
    ...(opts.details ? ['-d'] : []),
    'monitor',
    ...(opts.allNsid ? ['all-nsid'] : []),
    ...MONITOR_OBJECTS.split(' '),
  ]);
}

/**
 * Whether a world process has subscribed to rtnetlink: a NETLINK_ROUTE socket of its own with non-zero Groups
 * in its namespace's /proc/net/netlink. Read from the engine's side, through the world's /proc: no exec.
 */
export function hasSubscribed(world: World, pid: number): boolean {
  const dir = world.rootPath(`/proc/${pid}`);
  const own = new Set<string>();
  try {
    for (const fd of readdirSync(`${dir}/fd`)) {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`${dir}/fd/${fd}`));
      if (m) own.add(m[1]!);
    }
    if (!own.size) return false;
    // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
    return readFileSync(`${dir}/net/netlink`, 'utf8')
      .split('\n')
      .slice(1)
      .some((l) => {
        const f = l.trim().split(/\s+/);
        return f[1] === '0' && f[3] !== undefined && f[3] !== '00000000' && own.has(f[9] ?? '');
      });
  } catch {
    return false; // not started yet, or gone (its exit says so)
  }
}

/** Resolves once a monitor started with spawnMonitor has subscribed: a change made from then on is heard. */
export function monitorReady(world: World, proc: WorldProcess, stderr: () => string, waitMs: number): Promise<void> {
  // PODNET_TIMEOUT_SCALE: the bundled VM under emulation (TCG) starts every process several times slower
  const timeoutMs = waitMs * (Number(process.env.PODNET_TIMEOUT_SCALE) || 1);
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let over = false;
    const done = (err?: Error) => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      clearTimeout(limit);
      if (err) reject(err);
      else resolve();
    };
    const limit = setTimeout(
      () => done(new Error(`netview: ip monitor did not subscribe within ${timeoutMs} ms: ${stderr().trim()}`)),
      timeoutMs,
    );
    const look = () => {
      if (over) return;
      if (proc.pid && !proc.hasExited && world.alive && hasSubscribed(world, proc.pid)) done();
      else timer = setTimeout(look, POLL_MS);
    };
    void proc.started.then(look, (e: Error) => done(e));
    void proc.exited.then((s) =>
      done(new Error(`netview: ip monitor exited (${s.code ?? `signal ${s.signal}`}): ${stderr().trim()}`)),
    );
  });
}

export class NetMonitor extends EventEmitter<{ change: [NetChange]; error: [Error]; exit: [ExitStatus] }> {
  readonly process: WorldProcess;
  /** Netlink events seen (one per unindented `ip monitor` line), to compare with the changes emitted. */
  events = 0;
  /** The last snapshot read (the baseline for the next diff). */
  snapshot!: NetSnapshot;
  private timer: NodeJS.Timeout | undefined;
  private burstStart: number | undefined;
  private reading: Promise<void> = Promise.resolve();
  private pending = false;
  private closed = false;
  /** An event came while the baseline was being read: read again once it is in. */
  private early = false;
  private stderr = '';
  private readonly debounceMs: number;
  private readonly maxWaitMs: number;

  private constructor(
    readonly world: World,
    readonly target: Target,
    opts: NetMonitorOptions,
  ) {
    super();
    this.debounceMs = opts.debounceMs ?? 10;
    this.maxWaitMs = opts.maxWaitMs ?? 100;
    this.process = spawnMonitor(world, target);
    this.process.on('stdout', (d) => {
      this.events += (d.toString().match(/^\S/gm) ?? []).length;
      this.onEvent();
    });
    this.process.on('stderr', (d) => {
      if (this.stderr.length < 4096) this.stderr += d.toString();
    });
    void this.process.exited.then((s) => {
      this.clearTimer();
      if (!this.closed) this.emit('exit', s);
    });
  }

  /** Starts watching; resolves once the monitor is subscribed and the baseline snapshot is read. */
  static async start(world: World, target: Target, opts: NetMonitorOptions = {}): Promise<NetMonitor> {
    const m = new NetMonitor(world, target, opts);
    try {
      await m.ready(opts.readyTimeoutMs ?? 5000);
      // Read after the subscription: any change from here on is either in the baseline or triggers a read.
      m.snapshot = await readNamespace(world, target);
      if (m.early) m.onEvent();
    } catch (e) {
      await m.close();
      throw e;
    }
    return m;
  }

  private ready(timeoutMs: number): Promise<void> {
    return monitorReady(this.world, this.process, () => this.stderr, timeoutMs);
  }

  private onEvent(): void {
    if (this.closed) return;
    if (!this.snapshot) {
      this.early = true;
      return;
    }
    const now = performance.now();
    this.burstStart ??= now;
    this.clearTimer();
    const wait = Math.max(0, Math.min(this.debounceMs, this.burstStart + this.maxWaitMs - now));
    this.timer = setTimeout(() => this.flush(), wait);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Re-reads once per burst; reads never overlap, and events during a read get one more read after it. */
  private flush(): void {
    this.timer = undefined;
    const firstEventAt = this.burstStart!;
    this.burstStart = undefined;
    if (this.pending) return;
    this.pending = true;
    this.reading = this.reading.then(async () => {
      this.pending = false;
      if (this.closed) return;
      try {
        const snap = await readNamespace(this.world, this.target);
        if (this.closed) return;
        const diff = diffSnapshots(this.snapshot, snap);
        this.snapshot = snap;
        if (!isEmptyDiff(diff)) this.emit('change', { target: this.target, snapshot: snap, diff, firstEventAt });
      } catch (e) {
        // e.g. the pod's netns was removed; an 'error' with no listener would throw, so only report to listeners
        if (!this.closed && this.listenerCount('error')) this.emit('error', e as Error);
      }
    });
  }

  /** Stops watching: kills `ip monitor` by its handle and waits for it and any read in flight. */
  async close(): Promise<ExitStatus> {
    this.closed = true;
    this.clearTimer();
    this.process.kill(15);
    const s = await this.process.exited;
    await this.reading;
    return s;
  }
}
