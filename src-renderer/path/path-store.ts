// A followed packet, as the topology shows it: the form's values, the follow in flight (with what it is doing),
// the engine's refusal, the result (from this page's form or `path.followed`: a terminal's `podnet path FROM
// TO`, another window) and the hop selected. One per Lab, shared by every topology view.
import { useSyncExternalStore } from 'react';
import type { Lab } from '../state/lab.ts';
import { followChannel } from './channel.ts';
import { formProblem } from './form-check.ts';
import { dropIndex } from './path-layout.ts';
import type { FollowRequest, PathResult } from './types.ts';

export interface PathState {
  /** The panel (form, hops, details) shown. */
  open: boolean;
  form: FollowRequest;
  /** A follow in flight: when it started and how many namespaces capture. */
  following: { started: number; spaces: number; what: string } | null;
  /** The engine's refusal, word for word. */
  error: string | null;
  result: PathResult | null;
  /** Where the result came from: this page's form, or a follow elsewhere (a terminal's `podnet path`). */
  origin: 'form' | 'elsewhere' | null;
  /** The hop selected (its index in result.hops). */
  selected: number | null;
  /** Bumped when the form should take the focus (the toolbar button, the palette). */
  focusSeq: number;
}

/** Timings the benchmark reads (window.podnetPath.stats()): performance.now() at send and when the last hop was drawn. */
export interface PathStats {
  sentAt: number;
  resultAt: number;
  drawnAt: number;
}

type Listener = () => void;

/** The topology's least share of the centre while following: a 2-node drawing fits beside the terminals at 1440 px. */
const FOLLOW_SHARE = 0.68;

const KIND_WORDS = { ping: 'a ping', tcp: 'a TCP SYN', udp: 'a UDP datagram' } as const;

export class PathStore {
  private state: PathState = {
    open: false,
    form: { from: '', to: '', kind: 'ping' },
    following: null,
    error: null,
    result: null,
    origin: null,
    selected: null,
    focusSeq: 0,
  };
  private readonly listeners = new Set<Listener>();
  readonly stats: PathStats = { sentAt: 0, resultAt: 0, drawnAt: 0 };
  private readonly channel;

  constructor(private readonly lab: Lab) {
    this.channel = followChannel(lab.client);
    this.channel.onFollowed((r) => {
      // this page's own follow comes back as the call's answer too: the event must not mark it as from elsewhere
      if (this.state.following) return;
      this.show(r, 'elsewhere');
    });
    // a result names the world's interfaces: it means nothing once that world stops
    let running = lab.state.world.state === 'running';
    lab.store.subscribe(() => {
      const now = lab.state.world.state === 'running';
      if (running && !now) this.set({ result: null, origin: null, selected: null, following: null, error: null });
      running = now;
    });
  }

  get = (): PathState => this.state;

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  private set(patch: Partial<PathState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }

  /**
   * Opens the panel with its form focused (the topology's button, the palette's "Follow a packet…"): the
   * topology beside the terminals, with at least FOLLOW_SHARE of the centre (the drawing and the hops need it).
   */
  openForm(): void {
    const l = this.lab.state.layout;
    if (l.beside !== 'topology') this.lab.openTool('topology');
    if (l.besideShare < FOLLOW_SHARE) this.lab.setLayout({ besideShare: FOLLOW_SHARE });
    this.set({ open: true, focusSeq: this.state.focusSeq + 1 });
  }

  setOpen(open: boolean): void {
    this.set({ open });
  }

  setForm(patch: Partial<FollowRequest>): void {
    this.set({ form: { ...this.state.form, ...patch }, error: null });
  }

  selectHop(i: number | null): void {
    this.set({ selected: i, ...(i !== null ? { open: true } : {}) });
  }

  /** Removes the drawing (and the hop list with it); the form keeps its values. */
  clear(): void {
    this.set({ result: null, origin: null, selected: null, error: null });
  }

  /** What is wrong with the form, said as the fix; undefined when it can be sent. */
  problem(f: FollowRequest = this.state.form): string | undefined {
    return formProblem(f);
  }

  /** Asks the engine to follow the form's packet; `spaces` is how many namespaces will capture (for the progress line). */
  async follow(spaces: number): Promise<void> {
    if (this.state.following) return;
    const f = this.state.form;
    const bad = this.problem(f);
    if (bad) return this.set({ error: bad });
    const req: FollowRequest = {
      from: f.from,
      to: f.to.trim(),
      kind: f.kind,
      ...(f.kind !== 'ping' && f.port ? { port: f.port } : {}),
    };
    this.stats.sentAt = performance.now();
    this.stats.resultAt = 0;
    this.stats.drawnAt = 0;
    this.set({
      following: { started: Date.now(), spaces, what: `${KIND_WORDS[f.kind]} from ${f.from} to ${req.to}` },
      error: null,
    });
    try {
      const r = await this.channel.follow(req);
      this.stats.resultAt = performance.now();
      this.set({ following: null });
      this.show(r, 'form');
    } catch (e) {
      this.set({ following: null, error: (e as Error).message || String(e) });
    }
  }

  private show(r: PathResult, origin: 'form' | 'elsewhere'): void {
    // a drop: its last hop chosen, so its reason is in the details at once
    const first = dropIndex(r);
    // one followed elsewhere (a terminal) is drawn where the topology is; its panel opens when asked for (a hop clicked)
    this.set({
      result: r,
      origin,
      selected: first >= 0 ? first : null,
      open: origin === 'form' || this.state.open,
      error: null,
    });
  }

  /** The drawing calls this once the result's last hop is on screen. */
  drawn(): void {
    if (this.stats.sentAt && !this.stats.drawnAt) this.stats.drawnAt = performance.now();
  }
}

const stores = new WeakMap<Lab, PathStore>();

export function pathOf(lab: Lab): PathStore {
  let s = stores.get(lab);
  if (!s) {
    const store = (s = new PathStore(lab));
    stores.set(lab, store);
    // read-only timings for the benchmark, as podnetNetview is for the topology
    if (!('podnetPath' in window))
      Object.defineProperty(window, 'podnetPath', { value: Object.freeze({ stats: () => ({ ...store.stats }) }) });
  }
  return s;
}

export function usePath<T>(store: PathStore, select: (s: PathState) => T): T {
  return useSyncExternalStore(store.subscribe, () => select(store.get()));
}
