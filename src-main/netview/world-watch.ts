// The whole world kept live for the views and the topology, without one monitor per namespace: each
// node runs `ip monitor all-nsid`, which also hears the node's pods through the nsids the node holds for
// them (the veth to each pod gives it one), and the sandbox runs a plain `ip monitor`. Those lines are only
// triggers: a namespace is re-read with `ip -json` when its own events say so, debounced, a few at a time.
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { nodeFolder } from '../fs/world-files.js';
import { NODE_PATHS, type Target, type World, type WorldProcess } from '../world/world.js';
import { MONITOR_OBJECTS, monitorReady, monitorScript, READY } from './monitor.js';
import { readNamespace, readNsids, targetKey, type NetSnapshot, type NsId } from './snapshot.js';

export interface NsChange {
  key: string;
  target: Target;
  before: NetSnapshot;
  snapshot: NetSnapshot;
  /** performance.now() of the first event this change covers. */
  firstEventAt: number;
}

export interface WorldWatchOptions {
  /** Quiet time after a namespace's last event before it is re-read. */
  debounceMs?: number;
  /** A steady stream of events still gets a read at least this often. */
  maxWaitMs?: number;
  /** Reads running at once (each is one exec in the world). */
  concurrency?: number;
  readyTimeoutMs?: number;
}

interface Trigger {
  /** The node whose monitor this is, or undefined for the sandbox's. */
  node?: string;
  process: WorldProcess;
  stderr: string;
  partial: string;
}

const NSID_LINE = /^\[nsid (current|\d+)\]/;
/** How long after a trigger died another is started. */
const RESTART_MS = 300;

/** A pod's namespace as the watch names it: pinned at /run/netns/<pin> on its node. */
export const podTarget = (node: string, pin: string): Target => ({
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
  /** Trigger lines seen (one per netlink event), to compare with the reads made. */
  events = 0;
  reads = 0;
  private readonly triggers: Trigger[] = [];
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; burstStart: number }>();
  private readonly inflight = new Map<string, Promise<void>>();
  /** Events that came during a read: one more read after it, from this first event. */
  private readonly again = new Map<string, number>();
  /** Per node: nsid → pin name, from the node's `ip netns list-id`. */
  private readonly nsidPins = new Map<string, Map<number, string>>();
  private readonly queue: (() => void)[] = [];
  private running = 0;
  private closed = false;
  /** Each node's /run/netns, watched: a pin made or removed by anyone (the runtime, a lab command) is heard. */
  private readonly pinWatchers: FSWatcher[] = [];
  private pinTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly debounceMs: number;
  private readonly maxWaitMs: number;
  private readonly concurrency: number;

  private constructor(
    readonly world: World,
    opts: WorldWatchOptions,
  ) {
    super();
    this.debounceMs = opts.debounceMs ?? 10;
    this.maxWaitMs = opts.maxWaitMs ?? 100;
    this.concurrency = opts.concurrency ?? 4;
  }

  /** Starts the triggers, waits until each has subscribed, then reads every namespace once. */
  static async start(world: World, opts: WorldWatchOptions = {}): Promise<WorldWatch> {
    const w = new WorldWatch(world, opts);
    try {
      const ready: Promise<void>[] = [w.trigger(undefined, opts.readyTimeoutMs ?? 5000)];
      for (const n of world.nodes.keys()) ready.push(w.trigger(n, opts.readyTimeoutMs ?? 5000));
      await Promise.all(ready);
      for (const n of world.nodes.keys()) w.watchPins(n);
      const base: Target[] = [
        { kind: 'sandbox' },
        ...[...world.nodes.keys()].map((node): Target => ({ kind: 'node', node })),
      ];
      await Promise.all(base.map((t) => w.read(targetKey(t), t, performance.now())));
      await w.rescan();
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
          this.pinTimer = setTimeout(() => !this.closed && void this.rescan(), this.debounceMs);
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

  private trigger(node: string | undefined, timeoutMs: number): Promise<void> {
    const target: Target = node ? { kind: 'node', node } : { kind: 'sandbox' };
    const cmd = node ? `ip monitor all-nsid ${MONITOR_OBJECTS}` : `ip monitor ${MONITOR_OBJECTS}`;
    const t: Trigger = {
      ...(node ? { node } : {}),
      process: this.world.spawn(target, ['sh', '-c', monitorScript(cmd)]),
      stderr: '',
      partial: '',
    };
    this.triggers.push(t);
    t.process.on('stderr', (d) => {
      if (t.stderr.length < 4096) t.stderr += d.toString();
    });
    t.process.on('stdout', (d) => this.onLines(t, d.toString()));
    const ready = monitorReady(t.process, () => t.stderr, timeoutMs);
    void t.process.exited.then(async (s) => {
      if (this.closed || !this.world.alive) return;
      if (this.listenerCount('error'))
        this.emit(
          'error',
          new Error(
            `netview: ip monitor in ${node ?? 'the sandbox'} exited (${s.code ?? `signal ${s.signal}`})${t.stderr.replace(READY, '').trim() ? `: ${t.stderr.replace(READY, '').trim()}` : ''}`,
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
      if (this.closed || !this.world.alive) return;
      try {
        await this.trigger(node, timeoutMs);
      } catch {
        return; // it failed to start again: reported above, not retried forever
      }
      const now = performance.now();
      for (const snap of this.snapshots.values()) {
        const x = snap.target;
        if (node ? x.kind !== 'sandbox' && x.node === node : x.kind === 'sandbox') this.dirty(targetKey(x), x, now);
      }
    });
    return ready;
  }

  private onLines(t: Trigger, chunk: string): void {
    const text = t.partial + chunk;
    const lines = text.split('\n');
    t.partial = lines.pop() ?? '';
    const now = performance.now();
    for (const line of lines) {
      if (!line || /^\s/.test(line)) continue; // continuation of the event above
      this.events++;
      if (!t.node) {
        this.dirty('sandbox', { kind: 'sandbox' }, now);
        continue;
      }
      const m = NSID_LINE.exec(line);
      const nodeTarget: Target = { kind: 'node', node: t.node };
      if (!m || m[1] === 'current') {
        this.dirty(targetKey(nodeTarget), nodeTarget, now);
        continue;
      }
      const pin = this.nsidPins.get(t.node)?.get(Number(m[1]));
      if (pin) {
        const pt = podTarget(t.node, pin);
        this.dirty(targetKey(pt), pt, now);
      } else if (!this.nodeKnowsNsid(t.node, Number(m[1]))) {
        // a namespace the node has not told us about yet (a pod being made): re-reading the node learns its nsid
        this.dirty(targetKey(nodeTarget), nodeTarget, now);
      }
      // otherwise an unnamed nsid (the sandbox, seen through the node's eth0): the sandbox's own monitor reports it
    }
  }

  private nodeKnowsNsid(node: string, nsid: number): boolean {
    return this.snapshots.get(targetKey({ kind: 'node', node }))?.nsids.some((n) => n.nsid === nsid) ?? false;
  }

  /** Marks a namespace for a re-read once its events go quiet. */
  private dirty(key: string, target: Target, at: number): void {
    if (this.closed) return;
    const p = this.timers.get(key);
    const burstStart = p?.burstStart ?? at;
    if (p) clearTimeout(p.timer);
    const wait = Math.max(0, Math.min(this.debounceMs, burstStart + this.maxWaitMs - performance.now()));
    this.timers.set(key, { burstStart, timer: setTimeout(() => this.flush(key, target), wait) });
  }

  private flush(key: string, target: Target): void {
    const p = this.timers.get(key);
    this.timers.delete(key);
    if (!p || this.closed) return;
    if (this.inflight.has(key)) {
      if (!this.again.has(key)) this.again.set(key, p.burstStart);
      return;
    }
    void this.read(key, target, p.burstStart);
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

  /** Reads one namespace (never two reads of it at once) and reports what changed. */
  private read(key: string, target: Target, firstEventAt: number, attempt = 0): Promise<void> {
    const p = (async () => {
      let snap: NetSnapshot;
      try {
        snap = await this.limited(
          () => (this.closed ? Promise.reject(new Error('closed')) : this.readTarget(target)),
          target.kind !== 'pod',
        );
        this.reads++;
      } catch (e) {
        if (this.closed) return;
        if (target.kind === 'pod') {
          // a pod's netns that went away (or is not mounted yet): the pins decide. Not awaited: this read may
          // be one a scan is waiting for, and scans run one at a time.
          void this.rescan();
          if (attempt < 3)
            setTimeout(
              () => !this.closed && this.pinned(target) && void this.read(key, target, firstEventAt, attempt + 1),
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
      this.snapshots.set(key, snap);
      if (target.kind === 'node') this.learnNsids(target.node, snap);
      if (!before) this.emit('added', { key, target });
      else this.emit('change', { key, target, before, snapshot: snap, firstEventAt });
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
        this.dirty(key, target, again);
      }
    });
    return p;
  }

  /** Per node: the pins when its nsids were last named, and those names. */
  private readonly named = new Map<string, { pins: string; nsids: NsId[] }>();

  /**
   * One read of a namespace. Naming nsids (`ip netns list-id`) opens every pin, so it is done only for a
   * node whose pins changed or whose links refer to an nsid not named yet; a pod's nsids need no names.
   */
  private async readTarget(target: Target): Promise<NetSnapshot> {
    if (target.kind !== 'node') return readNamespace(this.world, target, { nsidNames: false });
    const pins = this.pins(target.node).sort().join('/');
    const snap = await readNamespace(this.world, target, { nsidNames: false });
    const last = this.named.get(target.node);
    const known = new Set(last?.nsids.map((n) => n.nsid));
    if (last && last.pins === pins && snap.nsids.every((n) => known.has(n.nsid))) {
      snap.nsids = last.nsids;
      return snap;
    }
    snap.nsids = await readNsids(this.world, target);
    this.named.set(target.node, { pins, nsids: snap.nsids });
    return snap;
  }

  /** The node's nsid → pin names; a pod that just got its nsid is re-read (its earlier events were not heard). */
  private learnNsids(node: string, snap: NetSnapshot): void {
    const old = this.nsidPins.get(node);
    const now = new Map(snap.nsids.filter((n) => n.name).map((n) => [n.nsid, n.name!]));
    this.nsidPins.set(node, now);
    // the first read of a node is the baseline: its pods are all being read for the first time anyway
    const fresh = old ? [...now].filter(([id, pin]) => old.get(id) !== pin) : [];
    void this.rescan().then(() => {
      for (const [, pin] of fresh) {
        const t = podTarget(node, pin);
        if (this.snapshots.has(targetKey(t))) this.dirty(targetKey(t), t, performance.now());
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
        if (!this.snapshots.has(key) && !this.inflight.has(key)) reads.push(this.read(key, t, performance.now()));
      }
    }
    for (const [key, s] of this.snapshots) {
      if (s.target.kind !== 'pod' || seen.has(key)) continue;
      this.snapshots.delete(key);
      const timer = this.timers.get(key);
      if (timer) clearTimeout(timer.timer);
      this.timers.delete(key);
      this.emit('gone', { key, target: s.target });
    }
    await Promise.all(reads);
  }

  /** Stops every trigger (by its handle) and waits for reads in flight. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.pinTimer);
    for (const fsw of this.pinWatchers.splice(0)) fsw.close();
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    for (const t of this.triggers) t.process.kill(15);
    await Promise.all(this.triggers.map((t) => t.process.exited));
    // queued reads see `closed` and reject at once
    for (const run of this.queue.splice(0)) run();
    await Promise.allSettled([...this.inflight.values()]);
  }
}
