// The whole world kept live for the views and the topology, without one monitor per namespace: each
// node runs `ip -d monitor all-nsid`, which also hears the node's pods through the nsids the node holds for
// them (the veth to each pod gives it one); the sandbox, and a namespace made by hand that no node holds an
// nsid for, run a plain `ip -d monitor`. Each event's text says what changed: a link's own line is applied
// at once (in the monitor's own namespace, where ip names devices right), and only the tables the event
// can change are read again with `ip -json`, one read in flight and one queued per namespace (a burst
// coalesces), a few namespaces at a time. Only the tables someone wants now (the demand) are read on an
// event; the others are marked stale, and `freshen` reads them when a client asks.
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { availableParallelism } from 'node:os';
import { nodeFolder } from '../fs/world-files.js';
import { NODE_PATHS, type Target, type World, type WorldProcess } from '../world/world.js';
import { monitorReady, spawnMonitor } from './monitor.js';
import { isWholeLink, linkOf, MonitorLines, parseLinkEvent, tablesOf, type MonitorEvent } from './monitor-lines.js';
import {
  readNamespace,
  readNsids,
  readTables,
  TABLE_NAMES,
  targetKey,
  type Link,
  type NetSnapshot,
  type NsId,
  type TableName,
} from './snapshot.js';

export interface NsChange {
  key: string;
  target: Target;
  before: NetSnapshot;
  snapshot: NetSnapshot;
  /** The tables that may differ between before and snapshot. */
  tables: readonly TableName[];
  /** performance.now() of the first event this change covers. */
  firstEventAt: number;
}

/**
 * Reads at once: a core is left for everything else (a lab's first check, a shell, the page). On 2 cores
 * one at a time: lab 10's first check, evaluated while the views read every namespace, took 52–62 ms
 * instead of 109–125 with 4, and the views' whole first read was no slower (141–150 ms against 163–178).
 */
export const READ_CONCURRENCY = Math.max(1, Math.min(4, availableParallelism() - 1));

export interface WorldWatchOptions {
  /** How long after a namespace's first event its tables are read (later events of the burst join it). */
  debounceMs?: number;
  /** Reads running at once (each is one exec in the world); READ_CONCURRENCY where not given. */
  concurrency?: number;
  readyTimeoutMs?: number;
  /** How long a pinned namespace may go without an nsid in its node before it gets a monitor of its own. */
  unheardMs?: number;
  /**
   * How long the read confirming a link applied from its own line waits: the row is already sent, and an
   * exec at once would compete with the page drawing it (events needing a read still go at debounceMs).
   */
  confirmMs?: number;
  /**
   * The tables of a namespace someone will see now: those are read on its events, the rest only marked
   * stale (read by `freshen`). Without it every table of every namespace is kept live.
   */
  demand?: (key: string, target: Target) => Demand;
}

/** The tables of a namespace that are wanted live: all, or some (none: every event only marks it stale). */
export type Demand = 'all' | ReadonlySet<TableName>;

/** A monitor: a node's all-nsid one, or a plain one in the sandbox or a hand-made namespace. */
interface Trigger {
  key: string;
  target: Target;
  /** all-nsid: its events name the node's pods by nsid. */
  allNsid: boolean;
  process: WorldProcess;
  stderr: string;
  lines: MonitorLines;
  /** Stopped on purpose (its namespace went, or a node's monitor hears it now): not started again. */
  stopped: boolean;
}

/** Tables to read for a namespace: some, or all of them with its nsids (a first read, a restarted monitor). */
type Want = Set<TableName> | 'all';

const merge = (a: Want | undefined, b: Want): Want =>
  a === 'all' || b === 'all' ? 'all' : new Set([...(a ?? []), ...b]);

/** What of `want` is wanted live now, and what is only marked stale. */
function split(want: Want, demand: Demand): { now?: Want; later?: Want } {
  if (demand === 'all') return { now: want };
  if (want === 'all') return demand.size ? { now: new Set(demand), later: 'all' } : { later: 'all' };
  const now = new Set([...want].filter((t) => demand.has(t)));
  const later = new Set([...want].filter((t) => !demand.has(t)));
  return { ...(now.size ? { now } : {}), ...(later.size ? { later } : {}) };
}

/** How long after a trigger died another is started. */
const RESTART_MS = 300;

/**
 * A veth pair made or deleted in one command is one change: the halves' lines come ~1 ms apart, and two
 * diffs would cost the page a render and a frame before the second shows. The half that comes first is
 * held for the other (made: it prints `b@NONE`, its peer not there yet; deleted: its peer still is), up
 * to this long; the other half reports both at once. Any other link event is reported at once.
 */
const PEER_WAIT_MS = 20;

/** A veth of this namespace with no peer yet: its pair's first half, printed `b@NONE` before `a` existed. */
const awaitsPeer = (l: Link | undefined) => l?.kind === 'veth' && l.peerIndex === undefined && l.netnsId === undefined;

/** A pod's namespace as the watch names it: pinned at /run/netns/<pin> on its node. */
export const podTarget = (node: string, pin: string): Target & { kind: 'pod' } => ({
  kind: 'pod',
  node,
  netns: `${NODE_PATHS.netnsDir}/${pin}`,
});

export class WorldWatch extends EventEmitter<{
  change: [NsChange];
  added: [{ key: string; target: Target }];
  gone: [{ key: string; target: Target }];
  error: [Error];
}> {
  /** Every namespace's last snapshot, by targetKey. */
  readonly snapshots = new Map<string, NetSnapshot>();
  /** Monitor events seen (one per netlink message), to compare with the reads made. */
  events = 0;
  reads = 0;
  /** Link events applied from their own text, with no read. */
  applied = 0;
  /** Events that only marked tables stale (nobody wanted them live): no read. */
  marked = 0;
  /** Per namespace: the tables events changed while nobody wanted them, and the first such event. */
  private readonly stale = new Map<string, { target: Target; want: Want; burstStart: number }>();
  /** The last naming of a node's new nsids, and the pods marked for it (freshen waits for it). */
  private learning: Promise<void> = Promise.resolve();
  private readonly triggers: Trigger[] = [];
  private readonly pending = new Map<string, { want: Want; burstStart: number; due: number; timer: NodeJS.Timeout }>();
  private readonly inflight = new Map<string, Promise<void>>();
  /** Events that came during a read: one more read after it, from this first event. */
  private readonly again = new Map<string, { want: Want; burstStart: number }>();
  /** performance.now() of the last change applied from an event's text, per namespace. */
  private readonly textAt = new Map<string, number>();
  /** Per namespace: link events applied but not yet reported (a veth half waiting for its peer), from this snapshot. */
  private readonly appliedBurst = new Map<
    string,
    { before: NetSnapshot; tables: Set<TableName>; firstEventAt: number; timer: NodeJS.Timeout }
  >();
  /** Per node: nsid → pin name, from the node's `ip netns list-id`. */
  private readonly nsidPins = new Map<string, Map<number, string>>();
  /** Hand-made namespaces waiting to be checked for an nsid, by key. */
  private readonly unheard = new Map<string, NodeJS.Timeout>();
  private readonly queue: (() => void)[] = [];
  private running = 0;
  private closed = false;
  /** Each node's /run/netns, watched: a pin made or removed by anyone (the runtime, a lab command) is heard. */
  private readonly pinWatchers: FSWatcher[] = [];
  private pinTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly debounceMs: number;
  private readonly concurrency: number;
  private readonly readyTimeoutMs: number;
  private readonly unheardMs: number;
  private readonly confirmMs: number;
  private readonly demand: (key: string, target: Target) => Demand;

  private constructor(
    readonly world: World,
    opts: WorldWatchOptions,
  ) {
    super();
    this.debounceMs = opts.debounceMs ?? 0;
    this.concurrency = opts.concurrency ?? READ_CONCURRENCY;
    this.readyTimeoutMs = opts.readyTimeoutMs ?? 5000;
    this.unheardMs = opts.unheardMs ?? 1000;
    this.confirmMs = opts.confirmMs ?? 30;
    this.demand = opts.demand ?? (() => 'all');
  }

  /** Starts the triggers, waits until each has subscribed, then reads every namespace once. */
  static async start(world: World, opts: WorldWatchOptions = {}): Promise<WorldWatch> {
    const w = new WorldWatch(world, opts);
    try {
      const base: Target[] = [
        { kind: 'sandbox' },
        ...[...world.nodes.keys()].map((node): Target => ({ kind: 'node', node })),
      ];
      await Promise.all(base.map((t) => w.trigger(t, t.kind === 'node')));
      for (const n of world.nodes.keys()) w.watchPins(n);
      // the pods' namespaces too, alongside: their nodes' monitors (all-nsid) already hear them
      await Promise.all([...base.map((t) => w.read(targetKey(t), t, performance.now(), 'all')), w.rescan()]);
    } catch (e) {
      await w.close();
      throw e;
    }
    return w;
  }

  /** `ip netns add` creates its pin file and then mounts it, `delete` unmounts and removes it: a rescan after the burst. */
  private watchPins(node: string): void {
    try {
      // the pin folder is the lab's: opened without following a link, then watched by that folder's identity
      const fsw = nodeFolder(this.world, node, 'netnsDir').withDir('', (dir) =>
        watch(dir, () => {
          clearTimeout(this.pinTimer);
          this.pinTimer = setTimeout(() => !this.closed && void this.rescan(), 10);
        }),
      );
      fsw.on('error', () => fsw.close()); // the folder went with its world: nothing more to hear
      this.pinWatchers.push(fsw);
    } catch {
      /* no inotify here: pods are still found on pods.changed and on their nsids */
    }
  }

  /** The target of a namespace the watch knows. */
  target(key: string): Target | undefined {
    return this.snapshots.get(key)?.target;
  }

  /** Monitors running now, by the namespace they run in (for tests: a hand-made namespace has its own). */
  monitors(): string[] {
    return this.triggers.filter((t) => !t.stopped).map((t) => t.key);
  }

  private trigger(target: Target, allNsid: boolean): Promise<void> {
    const key = targetKey(target);
    const t: Trigger = {
      key,
      target,
      allNsid,
      process: spawnMonitor(this.world, target, { details: true, allNsid }),
      stderr: '',
      lines: new MonitorLines(),
      stopped: false,
    };
    this.triggers.push(t);
    t.process.on('stderr', (d) => {
      if (t.stderr.length < 4096) t.stderr += d.toString();
    });
    t.process.on('stdout', (d) => this.onEvents(t, t.lines.push(d.toString())));
    const ready = monitorReady(this.world, t.process, () => t.stderr, this.readyTimeoutMs);
    void t.process.exited.then(async (s) => {
      if (this.closed || !this.world.alive || t.stopped) return;
      const where = target.kind === 'sandbox' ? 'the sandbox' : target.kind === 'node' ? target.node : target.netns;
      const why = t.stderr.trim();
      if (this.listenerCount('error'))
        this.emit(
          'error',
          new Error(
            `netview: ip monitor in ${where} exited (${s.code ?? `signal ${s.signal}`})${why ? `: ${why}` : ''}`,
          ),
        );
      // killed from a terminal in the node (a learner's pkill): start another once it had subscribed, then
      // re-read what it watched, since its events in between are lost
      if (
        !(await ready.then(
          () => true,
          () => false,
        ))
      )
        return;
      this.triggers.splice(this.triggers.indexOf(t), 1);
      await new Promise((r) => setTimeout(r, RESTART_MS));
      if (this.closed || !this.world.alive || (target.kind === 'pod' && !this.snapshots.has(key))) return;
      try {
        await this.trigger(target, allNsid);
      } catch {
        return; // it failed to start again: reported above, not retried forever
      }
      const now = performance.now();
      for (const snap of this.snapshots.values()) {
        const x = snap.target;
        const heard = allNsid
          ? x.kind !== 'sandbox' && x.node === (target as { node: string }).node
          : targetKey(x) === key;
        if (heard) this.dirty(targetKey(x), x, now, 'all');
      }
    });
    return ready;
  }

  private stopTrigger(key: string): void {
    for (const t of this.triggers)
      if (t.key === key && !t.allNsid && !t.stopped) {
        t.stopped = true;
        t.process.kill(15);
        void t.process.exited.then(() => {
          const i = this.triggers.indexOf(t);
          if (i >= 0 && !this.closed) this.triggers.splice(i, 1);
        });
      }
  }

  private onEvents(t: Trigger, events: MonitorEvent[]): void {
    const now = performance.now();
    for (const e of events) {
      this.events++;
      if (e.nsid === 'current') {
        // the monitor's own namespace: ip names its devices right, so a link's line is its row
        const applied = e.kind === 'link' && this.wants(t.key, t.target, 'links') && this.applyLink(t.key, e, now);
        this.dirty(t.key, t.target, now, new Set(tablesOf(e)), applied ? this.confirmMs : this.debounceMs);
        continue;
      }
      const node = (t.target as { node: string }).node;
      const pin = this.nsidPins.get(node)?.get(e.nsid);
      if (pin) {
        // a pod's event through its node: ip names its devices by the node's indexes, so only the kind is used
        const pt = podTarget(node, pin);
        this.dirty(targetKey(pt), pt, now, new Set(tablesOf(e)));
      } else if (!this.nodeKnowsNsid(node, e.nsid)) {
        // a namespace the node has not told us about yet (a pod being made): re-reading the node's links learns its nsid
        this.dirty(t.key, t.target, now, new Set(['links']));
      }
      // otherwise an unnamed nsid (the sandbox, seen through the node's eth0): the sandbox's own monitor reports it
    }
  }

  /** A link event in a namespace's own monitor, applied at once; the read that follows confirms it. */
  private applyLink(key: string, e: MonitorEvent, at: number): boolean {
    const before = this.snapshots.get(key);
    const id = linkOf(e);
    if (!before || !id || !isWholeLink(e)) return false;
    let snapshot: NetSnapshot;
    let tables: TableName[];
    if (e.deleted) {
      if (!before.links.some((l) => l.index === id.index)) return false;
      // what goes with a link: its addresses, the routes and neighbours through it, its FDB entries
      snapshot = {
        ...before,
        at: Date.now(),
        links: before.links.filter((l) => l.index !== id.index),
        addrs: before.addrs.filter((a) => a.ifname !== id.name),
        routes: before.routes.filter((r) => r.dev !== id.name),
        neighs: before.neighs.filter((n) => n.dev !== id.name),
        fdb: before.fdb.filter((f) => f.dev !== id.name),
      };
      tables = [...TABLE_NAMES];
    } else {
      const link = parseLinkEvent(e, (name) => before.links.find((l) => l.name === name)?.index);
      if (!link) return false;
      let links = withLink(before.links, link);
      // a veth pair's first half was printed before its peer existed (`b@NONE`); the second names it
      // (`a@b`), so the first names the second as ip -json reads it then: its peer, and M-DOWN while
      // that peer is not up (ip's flag for a linked device that is down). No event says so for the first.
      const peer =
        link.kind === 'veth' && link.netnsId === undefined ? links.find((l) => l.index === link.peerIndex) : undefined;
      if (peer && awaitsPeer(peer)) {
        const flags = peer.flags.filter((f) => f !== 'M-DOWN');
        if (!link.flags.includes('UP')) flags.push('M-DOWN');
        links = withLink(links, { ...peer, peerIndex: link.index, flags });
      }
      snapshot = { ...before, at: Date.now(), links };
      tables = ['links'];
    }
    this.applied++;
    this.snapshots.set(key, snapshot);
    this.textAt.set(key, performance.now());
    const burst = this.appliedBurst.get(key);
    if (burst) for (const t of tables) burst.tables.add(t);
    else
      this.appliedBurst.set(key, {
        before,
        tables: new Set(tables),
        firstEventAt: at,
        timer: setTimeout(() => this.reportApplied(key), PEER_WAIT_MS),
      });
    if (!this.halfOfPair(e, before, snapshot)) this.reportApplied(key);
    return true;
  }

  /** The first half of a veth pair made or deleted, whose other half's event is still to come. */
  private halfOfPair(e: MonitorEvent, before: NetSnapshot, after: NetSnapshot): boolean {
    const index = linkOf(e)?.index;
    if (!e.deleted) return awaitsPeer(after.links.find((l) => l.index === index));
    const gone = before.links.find((l) => l.index === index);
    return (
      gone?.kind === 'veth' &&
      gone.netnsId === undefined &&
      gone.peerIndex !== undefined &&
      after.links.some((l) => l.index === gone.peerIndex)
    );
  }

  /** Reports the link events applied since the burst began, as one change (before any later change of the namespace). */
  private reportApplied(key: string): void {
    const burst = this.appliedBurst.get(key);
    if (!burst) return;
    clearTimeout(burst.timer);
    this.appliedBurst.delete(key);
    const snapshot = this.snapshots.get(key);
    if (!snapshot || this.closed) return;
    const tables = TABLE_NAMES.filter((t) => burst.tables.has(t));
    this.emit('change', {
      key,
      target: snapshot.target,
      before: burst.before,
      snapshot,
      tables,
      firstEventAt: burst.firstEventAt,
    });
  }

  private nodeKnowsNsid(node: string, nsid: number): boolean {
    return this.snapshots.get(targetKey({ kind: 'node', node }))?.nsids.some((n) => n.nsid === nsid) ?? false;
  }

  private wants(key: string, target: Target, table: TableName): boolean {
    const d = this.demand(key, target);
    return d === 'all' || d.has(table);
  }

  /**
   * Marks tables of a namespace to be read within `delay`: the first event of a burst sets the time, later
   * ones join it. Tables nobody wants live now are only marked stale.
   */
  private dirty(key: string, target: Target, at: number, wanted: Want, delay = this.debounceMs): void {
    if (this.closed) return;
    const { now: want, later } = split(wanted, this.demand(key, target));
    if (later) {
      const s = this.stale.get(key);
      this.stale.set(key, { target, want: merge(s?.want, later), burstStart: s?.burstStart ?? at });
      if (!want) this.marked++;
    }
    if (!want) return;
    const due = performance.now() + delay;
    const p = this.pending.get(key);
    if (p) {
      p.want = merge(p.want, want);
      if (due < p.due) {
        // an event whose only news is the read: it goes sooner than a confirmation would
        clearTimeout(p.timer);
        p.due = due;
        p.timer = setTimeout(() => this.flush(key, target), delay);
      }
      return;
    }
    this.pending.set(key, { want, burstStart: at, due, timer: setTimeout(() => this.flush(key, target), delay) });
  }

  private flush(key: string, target: Target): void {
    const p = this.pending.get(key);
    this.pending.delete(key);
    if (!p || this.closed) return;
    if (this.inflight.has(key)) {
      const a = this.again.get(key);
      this.again.set(key, { want: merge(a?.want, p.want), burstStart: a?.burstStart ?? p.burstStart });
      return;
    }
    void this.read(key, target, p.burstStart, p.want);
  }

  /** Runs a read when one of the `concurrency` slots is free; `first` (a node, the sandbox) goes ahead of queued pods. */
  private limited<T>(fn: () => Promise<T>, first = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const run = () => {
        this.running++;
        fn()
          .then(resolve, reject)
          .finally(() => {
            this.running--;
            this.queue.shift()?.();
          });
      };
      if (this.running < this.concurrency) run();
      else if (first) this.queue.unshift(run);
      else this.queue.push(run);
    });
  }

  /** Reads a namespace's wanted tables (never two reads of it at once) and reports what changed. */
  private read(key: string, target: Target, firstEventAt: number, want: Want, attempt = 0): Promise<void> {
    const p = (async () => {
      const known = this.snapshots.get(key);
      const all = want === 'all' || !known;
      const startedAt = performance.now();
      let snap: NetSnapshot;
      try {
        snap = await this.limited(async () => {
          if (this.closed) throw new Error('closed');
          if (all) return this.readTarget(target);
          const part = await readTables(this.world, target, want);
          const base = this.snapshots.get(key) ?? known;
          const next: NetSnapshot = { ...base, ...part, at: Date.now() };
          if (target.kind === 'node' && part.links) next.nsids = await this.nameNsids(target.node, part.links);
          else if (part.links) next.nsids = nsidsOf(part.links);
          return next;
        }, target.kind !== 'pod');
        this.reads++;
      } catch (e) {
        if (this.closed) return;
        if (target.kind === 'pod') {
          // a pod's netns that went away (or is not mounted yet): the pins decide. Not awaited: this read may
          // be one a scan is waiting for, and scans run one at a time.
          void this.rescan();
          if (attempt < 3)
            setTimeout(
              () => !this.closed && this.pinned(target) && void this.read(key, target, firstEventAt, want, attempt + 1),
              100,
            );
          return;
        }
        if (this.listenerCount('error')) this.emit('error', e as Error);
        return;
      }
      if (this.closed) return;
      if (target.kind === 'pod' && !this.pinned(target)) return; // removed while it was read
      const before = this.snapshots.get(key);
      if (before && (this.textAt.get(key) ?? 0) > startedAt) {
        // an event's own text was applied while this read ran: the read may be older, so read again after it
        this.dirty(key, target, firstEventAt, want);
        return;
      }
      this.reportApplied(key);
      this.snapshots.set(key, snap);
      if (target.kind === 'node' && (all || want.has('links'))) this.learnNsids(target.node, snap);
      if (!before) {
        this.emit('added', { key, target });
        return;
      }
      const tables = all ? TABLE_NAMES : TABLE_NAMES.filter((t) => want.has(t));
      this.emit('change', { key, target, before, snapshot: snap, tables, firstEventAt });
    })().catch((e: unknown) => {
      // a listener that threw: reported, never an unhandled rejection from a read nobody awaits
      if (this.listenerCount('error')) this.emit('error', e as Error);
    });
    this.inflight.set(key, p);
    void p.finally(() => {
      this.inflight.delete(key);
      const again = this.again.get(key);
      if (again !== undefined) {
        this.again.delete(key);
        this.dirty(key, target, again.burstStart, again.want);
      }
    });
    return p;
  }

  /** Per node: the pins when its nsids were last named, and those names. */
  private readonly named = new Map<string, { pins: string; nsids: NsId[] }>();

  /** One whole read of a namespace (a pod's nsids need no names). */
  private async readTarget(target: Target): Promise<NetSnapshot> {
    if (target.kind === 'node') {
      const pins = this.pins(target.node).sort().join('/');
      // its pins changed (or it was never named): the names come in the same exec as the links
      if (this.named.get(target.node)?.pins !== pins) {
        const snap = await readNamespace(this.world, target);
        this.named.set(target.node, { pins, nsids: snap.nsids });
        return snap;
      }
    }
    const snap = await readNamespace(this.world, target, { nsidNames: false });
    if (target.kind === 'node') snap.nsids = await this.nameNsids(target.node, snap.links);
    return snap;
  }

  /**
   * A node's nsids, named. Naming them (`ip netns list-id`) opens every pin, so it is done only when the
   * node's pins changed or its links refer to an nsid not named yet.
   */
  private async nameNsids(node: string, links: Link[]): Promise<NsId[]> {
    const pins = this.pins(node).sort().join('/');
    const last = this.named.get(node);
    const known = new Set(last?.nsids.map((n) => n.nsid));
    if (last && last.pins === pins && nsidsOf(links).every((n) => known.has(n.nsid))) return last.nsids;
    const nsids = await readNsids(this.world, { kind: 'node', node });
    this.named.set(node, { pins, nsids });
    return nsids;
  }

  /** The node's nsid → pin names; a pod that just got its nsid is re-read (its earlier events were not heard). */
  private learnNsids(node: string, snap: NetSnapshot): void {
    const old = this.nsidPins.get(node);
    const now = new Map(snap.nsids.filter((n) => n.name).map((n) => [n.nsid, n.name!]));
    this.nsidPins.set(node, now);
    // the first read of a node is the baseline: its pods are all being read for the first time anyway
    const fresh = old ? [...now].filter(([id, pin]) => old.get(id) !== pin) : [];
    this.learning = this.rescan().then(() => {
      for (const [, pin] of fresh) {
        const t = podTarget(node, pin);
        const key = targetKey(t);
        if (!this.snapshots.has(key)) continue;
        this.dirty(key, t, performance.now(), 'all');
        // its node hears it now: a monitor of its own is no longer needed
        this.stopTrigger(key);
      }
    });
  }

  private pins(node: string): string[] {
    try {
      return nodeFolder(this.world, node, 'netnsDir').readdir();
    } catch {
      return [];
    }
  }

  private pinned(t: Target): boolean {
    return t.kind === 'pod' && this.pins(t.node).includes(t.netns.split('/').pop()!);
  }

  private heardByNode(t: Target & { kind: 'pod' }): boolean {
    const pin = t.netns.split('/').pop()!;
    return [...(this.nsidPins.get(t.node)?.values() ?? [])].includes(pin);
  }

  /**
   * A namespace made by hand (`ip netns add demo`) that its node holds no nsid for is not heard by the node's
   * monitor: once it has gone unheard for a moment (a pod's veth gives it an nsid within that), it gets its own.
   */
  private coverUnheard(key: string, t: Target & { kind: 'pod' }): void {
    if (this.unheard.has(key) || this.triggers.some((x) => x.key === key && !x.stopped) || this.heardByNode(t)) return;
    const still = () =>
      !this.closed && this.snapshots.has(key) && !this.heardByNode(t) && !this.triggers.some((x) => x.key === key);
    this.unheard.set(
      key,
      setTimeout(() => {
        this.unheard.delete(key);
        if (!still()) return;
        // the node's own word (one exec, once per such namespace): a pod's veth may have named it by now
        void readNsids(this.world, { kind: 'node', node: t.node })
          .then((ids) => ids.some((n) => n.name === t.netns.split('/').pop()))
          .catch(() => true)
          .then((named) => {
            if (named || !still()) return;
            this.trigger(t, false).then(
              // what changed before it listened
              () => this.dirty(key, t, performance.now(), 'all'),
              (e: Error) =>
                // stopped before it subscribed (its namespace went, or its node hears it now): nothing to report
                !this.triggers.some((x) => x.key === key && x.stopped) &&
                this.listenerCount('error') &&
                this.emit('error', e),
            );
          });
      }, this.unheardMs),
    );
  }

  private scanning: Promise<void> | undefined;

  /** Finds pods' namespaces made or removed since the last look (the pins in each node's /run/netns). */
  rescan(): Promise<void> {
    // one scan at a time; a call during one waits for it and runs again after (the pins may have moved since)
    // a scan that failed must not stop the next ones (nor surface as an unhandled rejection)
    const next = (this.scanning ?? Promise.resolve())
      .then(() => this.scan())
      .catch((e: unknown) => void (this.listenerCount('error') && this.emit('error', e as Error)));
    this.scanning = next;
    return next;
  }

  private async scan(): Promise<void> {
    if (this.closed || !this.world.alive) return;
    const seen = new Set<string>();
    const reads: Promise<void>[] = [];
    for (const node of this.world.nodes.keys()) {
      for (const pin of this.pins(node)) {
        const t = podTarget(node, pin);
        const key = targetKey(t);
        seen.add(key);
        if (!this.snapshots.has(key) && !this.inflight.has(key))
          reads.push(this.read(key, t, performance.now(), 'all').then(() => this.coverUnheard(key, t)));
      }
    }
    for (const [key, s] of this.snapshots) {
      if (s.target.kind !== 'pod' || seen.has(key)) continue;
      this.snapshots.delete(key);
      const p = this.pending.get(key);
      if (p) clearTimeout(p.timer);
      this.pending.delete(key);
      this.stale.delete(key);
      clearTimeout(this.unheard.get(key));
      this.unheard.delete(key);
      this.textAt.delete(key);
      clearTimeout(this.appliedBurst.get(key)?.timer);
      this.appliedBurst.delete(key);
      this.stopTrigger(key);
      this.emit('gone', { key, target: s.target });
    }
    await Promise.all(reads);
  }

  /** Namespaces with tables marked stale (for tests and benchmarks). */
  staleKeys(): string[] {
    return [...this.stale.keys()];
  }

  /**
   * Makes what `keys` hold (all namespaces without keys) no older than the kernel now: reads the tables marked
   * stale (only `tables` of them when given; the rest stay marked), and waits for reads pending or in flight.
   * `whole`: reads every table of each key even if none is marked (a monitor's line may still be on its way).
   * Nodes go first: their links name their pods' nsids, and a pod whose nsid is new is marked by that.
   */
  async freshen(
    keys?: readonly string[],
    opts: { tables?: ReadonlySet<TableName>; whole?: boolean } = {},
  ): Promise<void> {
    if (this.closed) return;
    const pick = (keys ?? [...this.snapshots.keys()]).filter((k) => this.snapshots.has(k));
    if (opts.whole)
      for (const k of pick) {
        const s = this.stale.get(k);
        this.stale.set(k, {
          target: this.snapshots.get(k)!.target,
          want: 'all',
          burstStart: s?.burstStart ?? performance.now(),
        });
      }
    const isPod = (k: string) => this.snapshots.get(k)?.target.kind === 'pod';
    for (let round = 0; round < 3; round++) {
      await Promise.all(pick.filter((k) => !isPod(k)).map((k) => this.settle(k, opts.tables)));
      await this.learning;
      await Promise.all(pick.filter(isPod).map((k) => this.settle(k, opts.tables)));
      if (!pick.some((k) => this.unsettled(k, opts.tables))) return;
    }
  }

  private unsettled(key: string, tables?: ReadonlySet<TableName>): boolean {
    const s = this.stale.get(key);
    const staleHere = s !== undefined && (!tables || s.want === 'all' || [...s.want].some((t) => tables.has(t)));
    return staleHere || this.pending.has(key) || this.inflight.has(key) || this.again.has(key);
  }

  /** Reads a namespace's stale tables now (a pending read too), then waits until no read of it is due. */
  private async settle(key: string, tables?: ReadonlySet<TableName>): Promise<void> {
    for (let i = 0; i < 5 && !this.closed && this.unsettled(key, tables); i++) {
      const s = this.stale.get(key);
      let take: Want | undefined;
      if (s) {
        // a namespace marked 'all' is read whole: only its tables in `tables` would leave it marked 'all'
        const { now, later }: ReturnType<typeof split> =
          !tables || s.want === 'all' ? { now: s.want } : split(s.want, tables);
        take = now;
        if (later) this.stale.set(key, { ...s, want: later });
        else this.stale.delete(key);
      }
      const p = this.pending.get(key);
      if (p) {
        clearTimeout(p.timer);
        this.pending.delete(key);
        take = merge(take, p.want);
      }
      const target = (s?.target ?? this.snapshots.get(key)?.target)!;
      if (take) {
        if (this.inflight.has(key)) {
          const a = this.again.get(key);
          this.again.set(key, {
            want: merge(a?.want, take),
            burstStart: a?.burstStart ?? s?.burstStart ?? performance.now(),
          });
        } else void this.read(key, target, s?.burstStart ?? p?.burstStart ?? performance.now(), take);
      }
      // a read that ends with events queued behind it reads again (through dirty: stale again if unwanted)
      while (this.inflight.has(key)) {
        await this.inflight.get(key);
        await Promise.resolve();
      }
    }
  }

  /** Stops every trigger (by its handle) and waits for reads in flight. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.pinTimer);
    for (const fsw of this.pinWatchers.splice(0)) fsw.close();
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    for (const t of this.unheard.values()) clearTimeout(t);
    this.unheard.clear();
    for (const b of this.appliedBurst.values()) clearTimeout(b.timer);
    this.appliedBurst.clear();
    for (const t of this.triggers) t.process.kill(15);
    await Promise.all(this.triggers.map((t) => t.process.exited));
    // queued reads see `closed` and reject at once
    for (const run of this.queue.splice(0)) run();
    await Promise.allSettled([...this.inflight.values()]);
  }
}

/** The nsids a namespace's links refer to, unnamed (as readNamespace gives them with nsidNames false). */
function nsidsOf(links: Link[]): NsId[] {
  return [...new Set(links.flatMap((l) => (l.netnsId === undefined ? [] : [l.netnsId])))]
    .sort((a, b) => a - b)
    .map((nsid) => ({ nsid }));
}

/** A link put in its place by ifindex, as ip lists them. */
function withLink(links: Link[], link: Link): Link[] {
  const out = links.filter((l) => l.index !== link.index);
  const i = out.findIndex((l) => l.index > link.index);
  out.splice(i < 0 ? out.length : i, 0, link);
  return out;
}
