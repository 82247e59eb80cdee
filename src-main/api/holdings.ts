// What a client holds on the engine until it lets go: a counted watch, released by its unwatch. A page's
// socket keeps the tally, so a page that goes (a closed tab, a mirror's tab) releases what it held.
import { isMethod, type Method, type PodnetApi } from './contract.js';

/** Counted requests and the request that releases each, with the same params. */
const RELEASES: Partial<Record<Method, Method>> = {
  'netview.watch': 'netview.unwatch',
  'netview.watchTopology': 'netview.unwatchTopology',
};
const RELEASED_BY = new Map(Object.entries(RELEASES).map(([hold, release]) => [release, hold]));

export class Holdings {
  /** By the release's method and params: how many holds are not released yet. */
  private readonly held = new Map<string, { method: Method; params: unknown; n: number }>();

  constructor(private readonly api: PodnetApi) {}

  /** Counts a request the engine answered without an error (a hold, or its release). */
  note(msg: unknown, ok: boolean): void {
    const { method, params } = (msg ?? {}) as { method?: unknown; params?: unknown };
    if (!ok || typeof method !== 'string' || !isMethod(method)) return;
    const release = RELEASES[method] ?? (RELEASED_BY.has(method) ? method : undefined);
    if (!release) return;
    const key = `${release}|${JSON.stringify(params ?? {})}`;
    const h = this.held.get(key);
    if (release !== method) this.held.set(key, { method: release, params: params ?? {}, n: (h?.n ?? 0) + 1 });
    else if (h && h.n > 1) h.n--;
    else this.held.delete(key);
  }

  /** The world ended: the engine forgot every hold with it, so there is nothing left to release. */
  reset(): void {
    this.held.clear();
  }

  /** Releases what is still held (the client went without asking); a release that fails is moot. */
  async release(): Promise<void> {
    const all = [...this.held.values()];
    this.held.clear();
    for (const h of all)
      for (let i = 0; i < h.n; i++)
        await (this.api[h.method] as (p: unknown) => Promise<unknown>)(h.params).catch(() => {});
  }
}
