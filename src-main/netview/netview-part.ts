// The netview part of the engine: the world kept live by WorldWatch, served as namespaces, snapshots
// with a sequence number, keyed diffs for the namespaces a client watches, and the topology (coalesced).
// Only what a client watches is read on events: a watched namespace's tables, and while some client
// watches the topology, what it draws; the rest is marked stale and read when a client asks for it.
import { ApiError, type NetNamespace, type NetSnapshotMsg, type Params, type Topology } from '../api/contract.js';
import type { Session, SessionPart } from '../session/session.js';
import type { Target } from '../world/world.js';
import { isEmptyKeyedDiff, keyedDiff, keyedTables } from './diff.js';
import { targetKey, type TableName } from './snapshot.js';
import { buildTopology, type NamedSnapshot } from './topology.js';
import { diffTopology } from './topology-diff.js';
import { WorldWatch, type Demand, type NsChange, type WorldWatchOptions } from './world-watch.js';

/** Topology events are coalesced: a burst of changes (a pod being made) sends one after the first. */
export const TOPOLOGY_COALESCE_MS = 30;
/** With a big world a topology takes tens of ms to build (and more to draw): wait a few builds' time, up to this. */
const TOPOLOGY_MAX_WAIT_MS = 250;
/** What the topology draws: every namespace's links and addresses, and a node's FDB (its tunnels' remotes). */
const TOPOLOGY_TABLES: ReadonlySet<TableName> = new Set(['links', 'addrs']);
const NODE_TOPOLOGY_TABLES: ReadonlySet<TableName> = new Set(['links', 'addrs', 'fdb']);
/** A node with a watched pod keeps its links live: they name the pod's nsid, by which its events are heard. */
const NSID_TABLES: ReadonlySet<TableName> = new Set(['links']);
const NOTHING: ReadonlySet<TableName> = new Set();

export class NetviewPart implements SessionPart {
  private session: Session | undefined;
  private watch: WorldWatch | undefined;
  /** Per namespace (targetKey): the seq of its last snapshot. */
  private readonly seqs = new Map<string, number>();
  /** Watch counts per namespace (targetKey). */
  private readonly watched = new Map<string, number>();
  /** Clients watching the topology (netview.watchTopology): its events are built and sent only for them. */
  private topologyWatchers = 0;
  private topologySeq = 0;
  private topologyTimer: NodeJS.Timeout | undefined;
  private topologyCache: Topology | undefined;
  /** The last topology sent: the next is sent as its diff. */
  private topologySent: Topology | undefined;
  private lastBuildMs = 0;
  private lastTopologyAt = -Infinity;
  private offEvents: (() => void) | undefined;
  /** The last name each pod namespace had: the kubelet forgets a pod before its namespace is gone. */
  private readonly podIds = new Map<string, string>();

  constructor(private readonly opts: WorldWatchOptions = {}) {}

  async attach(session: Session): Promise<void> {
    this.session = session;
    const watch = await WorldWatch.start(session.world, { demand: (key, t) => this.demandOf(key, t), ...this.opts });
    this.watch = watch;
    watch.on('change', (c) => this.onChange(c));
    watch.on('added', () => this.topologyChanged());
    watch.on('gone', ({ key, target }) => {
      this.seqs.delete(key);
      if (this.watched.has(key)) {
        this.watched.delete(key);
        session.emit('netview.gone', { ns: this.podIds.get(key) ?? this.idOf(target) });
      }
      this.podIds.delete(key);
      this.topologyChanged();
    });
    // a failed read is retried by the next event and a killed monitor is restarted: the log says so, the user need not
    watch.on('error', (e) => console.warn(e.message.startsWith('netview:') ? e.message : `netview: ${e.message}`));
    const onEvent = (name: string) => {
      // a pod made or deleted: its pin appears or goes, and its namespace gets or loses its pod name
      if (name === 'pods.changed') void watch.rescan().then(() => this.topologyChanged());
    };
    session.events.on('event', onEvent);
    this.offEvents = () => session.events.off('event', onEvent);
  }

  async detach(): Promise<void> {
    this.offEvents?.();
    clearTimeout(this.topologyTimer);
    this.topologyTimer = undefined;
    const w = this.watch;
    this.watch = undefined;
    this.session = undefined;
    this.seqs.clear();
    this.watched.clear();
    this.topologyWatchers = 0;
    this.topologyCache = undefined;
    this.topologySent = undefined;
    this.lastTopologyAt = -Infinity;
    this.podIds.clear();
    await w?.close().catch(() => {});
  }

  /** The contract's name for a namespace: pods by their pod name once the kubelet knows them. */
  idOf(t: Target): string {
    if (t.kind === 'sandbox') return 'sandbox';
    if (t.kind === 'node') return `node:${t.node}`;
    const pod = this.podOf(t);
    if (!pod) return `netns:${t.node}:${t.netns.split('/').pop()}`;
    this.podIds.set(targetKey(t), `pod:${pod}`);
    return `pod:${pod}`;
  }

  private podOf(t: Target & { kind: 'pod' }): string | undefined {
    for (const p of this.session?.kubelet.pods.values() ?? [])
      if (p.spec.node === t.node && p.netns === t.netns) return p.spec.name;
    return undefined;
  }

  private describe(t: Target): NetNamespace {
    const id = this.idOf(t);
    if (t.kind === 'sandbox') return { id, kind: 'sandbox', label: 'sandbox' };
    if (t.kind === 'node') return { id, kind: 'node', label: t.node, node: t.node };
    const pod = this.podOf(t);
    return { id, kind: 'pod', label: pod ?? t.netns.split('/').pop()!, node: t.node, ...(pod ? { pod } : {}) };
  }

  private live(): WorldWatch {
    if (!this.watch) throw new ApiError('failed', 'no world is running: start one first');
    return this.watch;
  }

  /** The namespace a contract id names, or a clear error listing what there is. */
  private keyOf(ns: string): string {
    const w = this.live();
    for (const [key, s] of w.snapshots) if (this.idOf(s.target) === ns) return key;
    throw new ApiError(
      'failed',
      `no namespace "${ns}" in this world (there are: ${this.topology()
        .namespaces.map((n) => n.id)
        .join(', ')})`,
    );
  }

  private snapshotMsg(key: string): NetSnapshotMsg {
    const s = this.live().snapshots.get(key)!;
    return { ns: this.idOf(s.target), seq: this.seqs.get(key) ?? 0, at: s.at, tables: keyedTables(s) };
  }

  private onChange(c: NsChange): void {
    const diff = keyedDiff(c.before, c.snapshot, c.tables);
    if (isEmptyKeyedDiff(diff)) return;
    const seq = (this.seqs.get(c.key) ?? 0) + 1;
    this.seqs.set(c.key, seq);
    if (this.watched.has(c.key))
      this.session?.emit('netview.diff', { ns: this.idOf(c.target), seq, at: c.snapshot.at, diff });
    // the topology draws links and their addresses: a route, neighbour or FDB entry (ARP and learning
    // chatter) does not change it, and a big world's topology is costly to send and draw
    const touches = (t: { added: unknown[]; changed: unknown[]; removed: unknown[] }) =>
      t.added.length + t.changed.length + t.removed.length > 0;
    if (touches(diff.links) || touches(diff.addrs)) this.topologyChanged();
  }

  /** What of a namespace someone sees now: all of a watched one, the topology's tables while it is watched. */
  private demandOf(key: string, t: Target): Demand {
    if (this.watched.has(key)) return 'all';
    if (this.topologyWatchers > 0) return t.kind === 'node' ? NODE_TOPOLOGY_TABLES : TOPOLOGY_TABLES;
    // asked on every event: the watched keys are looked through only for a node nothing else wants
    const podWatched =
      t.kind === 'node' &&
      [...this.watched.keys()].some((k) => {
        const x = this.watch?.target(k);
        return x?.kind === 'pod' && x.node === t.node;
      });
    return podWatched ? NSID_TABLES : NOTHING;
  }

  /** The first change after a quiet spell is sent at once; a burst after it waits a few builds' time. */
  private topologyChanged(): void {
    this.topologyCache = undefined;
    // nobody watches it: the next request builds it from what is read then
    if (this.topologyTimer || !this.session || this.topologyWatchers === 0) return;
    const gap = Math.min(TOPOLOGY_MAX_WAIT_MS, Math.max(TOPOLOGY_COALESCE_MS, 3 * this.lastBuildMs));
    this.topologyTimer = setTimeout(
      () => {
        this.topologyTimer = undefined;
        this.lastTopologyAt = performance.now();
        if (this.session && this.watch) this.sendTopology(this.session);
      },
      Math.max(0, this.lastTopologyAt + gap - performance.now()),
    );
  }

  /** The first topology whole, then only what changed since the last one sent (a client at another seq fetches it). */
  private sendTopology(session: Session): void {
    const t = this.topology();
    const last = this.topologySent;
    if (!last) {
      this.topologySent = t;
      session.emit('netview.topology', t);
      return;
    }
    if (last.seq === t.seq) return;
    const d = diffTopology(last, t);
    // rebuilt but the same (a route changed, a pod list refreshed): nothing to send, the next diff is from `last`
    if (!d.upsert.length && !d.remove.length && !d.order && JSON.stringify(d.tunnels) === JSON.stringify(last.tunnels))
      return;
    this.topologySent = t;
    session.emit('netview.topologyDiff', d);
  }

  private topology(): Topology {
    if (this.topologyCache) return this.topologyCache;
    const spaces: NamedSnapshot[] = [...this.live().snapshots.values()].map((snapshot) => ({
      ...this.describe(snapshot.target),
      snapshot,
    }));
    const t0 = performance.now();
    this.topologyCache = buildTopology(spaces, ++this.topologySeq);
    this.lastBuildMs = performance.now() - t0;
    return this.topologyCache;
  }

  /** The topology from namespaces no older than the kernel now (what nobody watched was only marked stale). */
  private async freshTopology(): Promise<Topology> {
    const w = this.live();
    const nodes = [...w.snapshots.keys()].filter((k) => w.target(k)?.kind === 'node');
    await w.freshen(nodes, { tables: NODE_TOPOLOGY_TABLES });
    await w.freshen(undefined, { tables: TOPOLOGY_TABLES });
    return this.topology();
  }

  /** A namespace's snapshot no older than the kernel now: one whole read (call it only for one not kept live). */
  private async fresh(key: string): Promise<void> {
    const w = this.live();
    const t = w.target(key);
    // a pod's node first: its links name the pod's nsid, by which the pod's events are heard from now on
    if (t?.kind === 'pod') await w.freshen([targetKey({ kind: 'node', node: t.node })], { tables: NSID_TABLES });
    await w.freshen([key], { whole: true });
  }

  async ['netview.namespaces'](): Promise<NetNamespace[]> {
    const t = this.topology();
    return t.namespaces.map(({ links: _links, ...ns }) => ns);
  }

  async ['netview.snapshot'](p: Params<'netview.snapshot'>): Promise<NetSnapshotMsg> {
    const key = this.keyOf(p.ns);
    if (!this.watched.has(key)) await this.fresh(key);
    return this.snapshotMsg(this.keyOf(p.ns));
  }

  async ['netview.watch'](p: Params<'netview.watch'>): Promise<NetSnapshotMsg> {
    const key = this.keyOf(p.ns);
    const live = this.watched.has(key);
    // counted before the read: an event during it is read live (a diff the page drops: its seq is not past the snapshot's)
    this.watched.set(key, (this.watched.get(key) ?? 0) + 1);
    if (!live) await this.fresh(key);
    return this.snapshotMsg(this.keyOf(p.ns));
  }

  async ['netview.unwatch'](p: Params<'netview.unwatch'>): Promise<{ ok: true }> {
    const w = this.live();
    // unwatching a namespace that is gone is fine: it is no longer watched either way
    const key = [...w.snapshots.keys()].find((k) => this.idOf(w.snapshots.get(k)!.target) === p.ns);
    if (key !== undefined) {
      const n = (this.watched.get(key) ?? 0) - 1;
      if (n > 0) this.watched.set(key, n);
      else this.watched.delete(key);
    }
    return { ok: true };
  }

  async ['netview.topology'](): Promise<Topology> {
    return this.topologyWatchers > 0 ? this.topology() : this.freshTopology();
  }

  async ['netview.watchTopology'](): Promise<Topology> {
    this.live();
    // counted before the reads: a change during them is read live and sent
    if (this.topologyWatchers++ > 0) return this.topology();
    const t = await this.freshTopology();
    // the first watcher's diffs start from what it got unless one was sent since (a page at another seq fetches it whole)
    if ((this.topologySent?.seq ?? -1) < t.seq) this.topologySent = t;
    return t;
  }

  async ['netview.unwatchTopology'](): Promise<{ ok: true }> {
    this.topologyWatchers = Math.max(0, this.topologyWatchers - 1);
    return { ok: true };
  }

  /** For tests and benchmarks: the watch's counters. */
  get stats(): {
    events: number;
    reads: number;
    applied: number;
    marked: number;
    stale: number;
    namespaces: number;
    watched: number;
    topologyWatchers: number;
  } {
    const w = this.watch;
    return {
      watched: [...this.watched.values()].reduce((a, n) => a + n, 0),
      topologyWatchers: this.topologyWatchers,
      events: w?.events ?? 0,
      reads: w?.reads ?? 0,
      applied: w?.applied ?? 0,
      marked: w?.marked ?? 0,
      stale: w?.staleKeys().length ?? 0,
      namespaces: w?.snapshots.size ?? 0,
    };
  }
}
