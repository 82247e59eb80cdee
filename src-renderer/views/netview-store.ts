// The live views' own state, fed by the engine's netview part: the topology, the chosen namespace's
// tables (a snapshot at a seq, then keyed diffs; a gap means re-fetch), and which rows just appeared,
// changed or went, so the eye catches them. One per Lab; the topology and the tables both read it.
import { startTransition, useEffect, useState, useSyncExternalStore } from 'react';
import type { NetDiff, NetSnapshotMsg, NetTables, Topology } from '../../src-main/api/contract.ts';
import { applyKeyedDiff, type Keyed } from '../../src-main/netview/keyed.ts';
import { applyTopologyDiff } from '../../src-main/netview/topology-diff.ts';
import type { Lab } from '../state/lab.ts';

export type TableName = keyof NetTables;
export const TABLES: TableName[] = ['links', 'addrs', 'routes', 'neighs', 'fdb'];

/** How long a row stays marked after it appeared, changed or went. */
export const MARK_MS = 1600;
/**
 * Marks fade in batches, this long after the earliest is due, in the page's idle time: one fade per change
 * was a render every few dozen ms through a stream of changes, each in the way of the next change's row.
 * A diff takes what is due along, so through a stream of changes no fade is drawn on its own.
 */
const UNMARK_BATCH_MS = 250;

export type Mark = 'added' | 'changed' | 'removed';
/** 'auto': as ip shows it without -4/-6 (routes: the namespace's family, IPv4 unless it has only IPv6; the rest: both). */
export type Family = 'auto' | 'all' | 'inet' | 'inet6';
/** Routes of the main table (as `ip route`) or of every table (`table all`). */
export type RouteTables = 'main' | 'all';

export interface NetviewState {
  topology: Topology | null;
  /** The namespace the tables show. */
  ns: string;
  table: TableName;
  /** Which address family the addresses, routes and neighbours show (ip -4 / -6 / both). */
  family: Family;
  routeTables: RouteTables;
  /** The tables at `seq`, plus rows that just went (kept for MARK_MS with mark 'removed'). */
  tables: NetTables | null;
  seq: number;
  /** Row marks by `${table}|${key}`: what happened, a generation that restarts the flash, and when it fades. */
  marks: Record<string, { mark: Mark; gen: number; until: number }>;
  /** Rows that went, each shown struck through until its own time is up. */
  ghosts: { [T in TableName]?: Ghost<NetTables[T][number]['row']>[] };
  /** A row to scroll to and outline (from the topology's "show in table"). */
  focus: { table: TableName; key: string } | null;
  /** The interface selected in the topology. */
  selected: { ns: string; name: string } | null;
  /** The namespace the tables showed went away. */
  goneNote: string | null;
  error: string | null;
}

/** Timings the benchmark reads (window.podnetNetview.stats()). */
export interface NetviewStats {
  /** performance.now() when the last topology event arrived, and how long until it was on screen. */
  topologyArrivedAt: number;
  topologyRenderMs: number[];
  /** Every topology drawn since the page loaded (the list above keeps only the last 500). */
  topologyRenders: number;
  diffsApplied: number;
  refetches: number;
  /** Fades drawn with a diff (what was due went in its draw), and drawn on their own (no diff came in time). */
  fadesWithDiff: number;
  fadesAlone: number;
}

type Listener = () => void;
type Ghost<T> = Keyed<T> & { until: number };

export class NetviewStore {
  private state: NetviewState = {
    topology: null,
    // none chosen yet: the first node once the world runs (where a learner starts), not the sandbox
    ns: '',
    table: 'links',
    family: 'auto',
    routeTables: 'main',
    tables: null,
    seq: 0,
    marks: {},
    ghosts: {},
    focus: null,
    selected: null,
    goneNote: null,
    error: null,
  };
  private readonly listeners = new Set<Listener>();
  /** Told before the others: the tables' own DOM (net-table.ts), so a change's rows are in the page before React draws. */
  private readonly first = new Set<Listener>();
  private watching: string | null = null;
  private gen = 0;
  private markTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the first mark or row that went is due to fade (Infinity: none is held); no later than the truth. */
  private due = Infinity;
  private running = false;
  private fetchingTopology = false;
  readonly stats: NetviewStats = {
    topologyArrivedAt: 0,
    topologyRenderMs: [],
    topologyRenders: 0,
    diffsApplied: 0,
    refetches: 0,
    fadesWithDiff: 0,
    fadesAlone: 0,
  };
  /** The topology's SVG exporter, set while the topology view is mounted. */
  exporter: { svg(): string; png(): Promise<Blob> } | null = null;

  constructor(private readonly lab: Lab) {
    lab.client.on('netview.topology', (t) => {
      this.stats.topologyArrivedAt = performance.now();
      this.set({ topology: t });
    });
    lab.client.on('netview.topologyDiff', (d) => {
      const t = this.state.topology;
      if (!t || d.seq <= t.seq) return; // none yet (a resync fetches it) or older than the one held
      if (d.base !== t.seq) {
        // one was missed (a reconnect), or the one held was fetched after the last sent: the whole again
        if (this.fetchingTopology) return;
        this.fetchingTopology = true;
        this.stats.refetches++;
        void this.lab.client
          .call('netview.topology', {})
          .then(
            (whole) => this.running && whole.seq > (this.state.topology?.seq ?? -1) && this.set({ topology: whole }),
            () => {},
          )
          .finally(() => (this.fetchingTopology = false));
        return;
      }
      this.stats.topologyArrivedAt = performance.now();
      this.set({ topology: applyTopologyDiff(t, d) });
    });
    lab.client.on('netview.diff', (d) => this.onDiff(d.ns, d.seq, d.diff));
    lab.client.on('netview.gone', ({ ns }) => {
      if (ns !== this.state.ns) return;
      this.watching = null;
      const fallback = this.state.topology?.namespaces.find((n) => n.id === ns)?.node;
      this.set({ goneNote: `${ns} is gone (its pod was deleted).` });
      void this.select(fallback ? `node:${fallback}` : 'sandbox', { keepNote: true });
    });
    let last = '';
    const follow = () => {
      const s = lab.state;
      const now = `${s.connection}|${s.world.state}`;
      if (now === last) return;
      last = now;
      const running = s.connection === 'connected' && s.world.state === 'running';
      if (running) void this.resync();
      else if (this.running) {
        this.running = false;
        this.watching = null;
        this.due = Infinity;
        this.set({ topology: null, tables: null, seq: 0, marks: {}, ghosts: {}, selected: null, focus: null });
      }
    };
    lab.store.subscribe(follow);
    follow();
    // the tables follow the terminal the learner switches to: a node's terminal shows that node
    let lastTab: string | null = null;
    lab.store.subscribe(() => {
      const { activeTab, tabs } = lab.state;
      if (activeTab === lastTab) return;
      const t = tabs.find((x) => x.key === activeTab)?.target;
      if (t || !activeTab) lastTab = activeTab; // a tab made active before it is listed is looked at again
      if (!t || !this.running) return;
      const ns = t.kind === 'sandbox' ? 'sandbox' : t.kind === 'node' ? `node:${t.node}` : `pod:${t.pod}`;
      if (ns !== this.state.ns && this.state.topology?.namespaces.some((n) => n.id === ns)) void this.select(ns);
    });
  }

  get = (): NetviewState => this.state;

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  /** As subscribe, told before React's listeners (for DOM kept by hand). */
  subscribeFirst = (l: Listener): (() => void) => {
    this.first.add(l);
    return () => this.first.delete(l);
  };

  private set(patch: Partial<NetviewState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.first) l();
    for (const l of this.listeners) l();
  }

  /** After a start or a reconnect: the topology, and the chosen namespace again (or the first node). */
  private async resync(): Promise<void> {
    this.running = true;
    this.watching = null;
    try {
      // watched: its events come while this page is open (its socket's close releases the watch)
      const topology = await this.lab.client.call('netview.watchTopology', {});
      this.stats.topologyArrivedAt = performance.now();
      this.set({ topology });
      const ns = topology.namespaces.some((n) => n.id === this.state.ns)
        ? this.state.ns
        : (topology.namespaces.find((n) => n.kind === 'node')?.id ?? 'sandbox');
      await this.select(ns);
    } catch (e) {
      this.set({ error: `Live views: ${(e as Error).message}` });
    }
  }

  /** The picker's choice: a stable function, so the picker is not drawn again for a new one. */
  pick = (ns: string): void => void this.select(ns);

  /** Shows a namespace's tables, live: unwatches the old one, watches the new one. */
  async select(ns: string, opts: { keepNote?: boolean } = {}): Promise<void> {
    const old = this.watching;
    this.watching = ns;
    this.due = Infinity;
    this.set({
      ns,
      tables: null,
      marks: {},
      ghosts: {},
      focus: null,
      error: null,
      ...(opts.keepNote ? {} : { goneNote: null }),
    });
    if (old && old !== ns) void this.lab.client.call('netview.unwatch', { ns: old }).catch(() => {});
    try {
      const snap = await this.lab.client.call('netview.watch', { ns });
      if (this.watching === ns) this.load(snap);
    } catch (e) {
      if (this.watching === ns) this.set({ error: (e as Error).message });
    }
  }

  setTable(table: TableName): void {
    this.set({ table });
  }

  setFamily(family: Family): void {
    this.set({ family });
  }

  setRouteTables(routeTables: RouteTables): void {
    this.set({ routeTables });
  }

  /** Selects an interface of the topology (null: none). */
  selectLink(sel: { ns: string; name: string } | null): void {
    this.set({ selected: sel });
  }

  /** Shows a link's row in the tables: its namespace, the links table, scrolled to and outlined. */
  async showLinkRow(ns: string, index: number): Promise<void> {
    if (this.state.ns !== ns || !this.state.tables) await this.select(ns);
    this.set({ table: 'links', focus: { table: 'links', key: String(index) } });
  }

  private load(snap: NetSnapshotMsg): void {
    this.set({ tables: snap.tables, seq: snap.seq });
  }

  private onDiff(ns: string, seq: number, diff: NetDiff): void {
    if (ns !== this.watching || !this.state.tables || seq <= this.state.seq) return;
    if (seq !== this.state.seq + 1) {
      // a diff was missed (a reconnect, a dropped event): the snapshot is the truth
      this.stats.refetches++;
      void this.lab.client.call('netview.snapshot', { ns }).then(
        (s) => this.watching === ns && this.load(s),
        () => {},
      );
      return;
    }
    this.stats.diffsApplied++;
    const now = performance.now();
    const due = this.due <= now;
    const marks = { ...this.state.marks };
    const ghosts = { ...this.state.ghosts } as Record<TableName, Ghost<unknown>[]>;
    const tables = { ...this.state.tables };
    const gen = ++this.gen;
    const until = now + MARK_MS;
    for (const t of TABLES) {
      const d = diff[t] as { added: Keyed<never>[]; changed: Keyed<never>[]; removed: string[] };
      if (!d.added.length && !d.changed.length && !d.removed.length) continue;
      const before = tables[t] as Keyed<unknown>[];
      const removed = new Set(d.removed);
      const gone = d.removed.length ? before.filter((r) => removed.has(r.key)).map((r) => ({ ...r, until })) : [];
      (tables as Record<TableName, Keyed<unknown>[]>)[t] = applyKeyedDiff(before, d);
      for (const r of d.added) marks[`${t}|${r.key}`] = { mark: 'added', gen, until };
      for (const r of d.changed) marks[`${t}|${r.key}`] = { mark: 'changed', gen, until };
      for (const k of d.removed) marks[`${t}|${k}`] = { mark: 'removed', gen, until };
      // a key that came back is no longer a ghost
      const old = ghosts[t] ?? [];
      const live = old.length ? new Set((tables as Record<TableName, Keyed<unknown>[]>)[t].map((r) => r.key)) : null;
      ghosts[t] = [...old.filter((g) => !live!.has(g.key) && !removed.has(g.key)), ...gone];
      this.due = Math.min(this.due, until);
    }
    this.set({ tables, seq, marks, ghosts: ghosts as NetviewState['ghosts'] });
    // what is due fades in this diff's task, once its rows are in the page, and in its frame: a fade drawn on
    // its own, between changes, can be in the way of the next change's row
    if (due) {
      this.stats.fadesWithDiff++;
      queueMicrotask(this.fadeDue);
    }
    this.scheduleUnmark();
  }

  /**
   * Each mark fades MARK_MS after its own change (to UNMARK_BATCH_MS later, with the others due by then):
   * its ghost goes, and the flash class with it. One timer, for the earliest; a steady stream of changes
   * must not keep every ghost on screen.
   */
  private scheduleUnmark(): void {
    if (this.markTimer !== undefined) return;
    const next = this.due;
    if (next === Infinity) return;
    const fade = () => {
      this.markTimer = undefined;
      const now = performance.now();
      // drawn alone only when no diff has come to take it since it was due (a diff takes what is due as it goes)
      if (this.due + UNMARK_BATCH_MS <= now + 1) {
        this.stats.fadesAlone++;
        this.fadeDue();
      }
      this.scheduleUnmark();
    };
    this.markTimer = setTimeout(
      () => {
        // a change arriving meanwhile goes first; a page that is never idle still fades them soon
        if (typeof requestIdleCallback === 'function') requestIdleCallback(fade, { timeout: UNMARK_BATCH_MS });
        else fade();
      },
      Math.max(0, next - performance.now()) + UNMARK_BATCH_MS,
    );
  }

  /** Drops the marks and the rows that went which are due now. */
  private fadeDue = (): void => {
    this.set(this.withoutDue(performance.now()));
  };

  /**
   * The marks and the rows that went, without those due by `now` (new objects, for the caller to add to), and
   * `due` from what stays: it is kept as marks come and go, not searched for on every diff.
   */
  private withoutDue(now: number): Pick<NetviewState, 'marks' | 'ghosts'> {
    let next = Infinity;
    const marks: NetviewState['marks'] = {};
    for (const [k, m] of Object.entries(this.state.marks))
      if (m.until > now) {
        marks[k] = m;
        next = Math.min(next, m.until);
      }
    const ghosts: Record<string, Ghost<unknown>[]> = {};
    for (const [t, g] of Object.entries(this.state.ghosts) as [string, Ghost<unknown>[]][]) {
      const kept = g.filter((x) => x.until > now);
      for (const x of kept) next = Math.min(next, x.until);
      // a table with none due keeps its array: its rows are not looked at again
      ghosts[t] = kept.length === g.length ? g : kept;
    }
    this.due = next;
    return { marks, ghosts };
  }
}

const stores = new WeakMap<Lab, NetviewStore>();

/** The lab's netview store (made on first use). */
export function netviewOf(lab: Lab): NetviewStore {
  let s = stores.get(lab);
  if (!s) {
    const store = (s = new NetviewStore(lab));
    stores.set(lab, store);
    // read-only timings for the benchmark, as podnetScreens is for terminals
    if (!('podnetNetview' in window))
      Object.defineProperty(window, 'podnetNetview', {
        value: Object.freeze({
          stats: () => ({ ...store.stats, topologyRenderMs: [...store.stats.topologyRenderMs] }),
        }),
      });
  }
  return s;
}

/**
 * The topology at a transition's priority, for what only names its namespaces (the tables' picker and peer
 * names): a big world's update is drawn there once, in the page's spare time, and a row never waits for it.
 */
export function useTopologyBehind(store: NetviewStore): Topology | null {
  const [topology, setTopology] = useState(() => store.get().topology);
  useEffect(() => {
    let last: Topology | null | undefined;
    const follow = () => {
      const now = store.get().topology;
      if (now === last) return;
      last = now;
      startTransition(() => setTopology(now));
    };
    follow();
    return store.subscribe(follow);
  }, [store]);
  return topology;
}

export function useNetview<T>(store: NetviewStore, select: (s: NetviewState) => T): T {
  return useSyncExternalStore(store.subscribe, () => select(store.get()));
}
