// kube-proxy, one per node: it lists, then watches, Services and EndpointSlices (as the kube-proxy
// component, its User-Agent), and after each change writes the node's rules inside that node's network
// namespace — iptables mode (its default: `iptables-restore --noflush` of its own KUBE-* chains, never
// anyone else's) or nftables mode (`nft -f` of the table `ip kube-proxy`).
import type { World } from '../world/world.js';
import type { ApiClient } from './cluster.js';
import {
  canaryCheckScript,
  chainsOf,
  ensureScript,
  renderIptables,
  serviceChain,
  tableOf,
} from './kube-proxy-iptables.js';
import { NFT_TABLE, renderNftables } from './kube-proxy-nftables.js';
import { servicePorts, type ServicePort } from './kube-proxy-state.js';
import type { KubeObject } from './resources.js';

export type ProxyMode = 'iptables' | 'nftables';
export const PROXY_MODES: readonly ProxyMode[] = ['iptables', 'nftables'];

/** The pod network every node's pod CIDR is carved from (kube-proxy's --cluster-cidr). */
export const CLUSTER_CIDR = '10.244.0.0/16';
/** The Service CIDR ClusterIPs come from (kube-apiserver's --service-cluster-ip-range default). */
export const SERVICE_CIDR = '10.96.0.0/12';

/** kube-proxy's --iptables-sync-period: how often its monitor checks the canary chains (gone: a full sync). */
export const SYNC_PERIOD_MS = 30_000;
/** proxyutil.FullSyncPeriod: a full sync at least this often, even with nothing changed. */
export const FULL_SYNC_PERIOD_MS = 3_600_000;
/** kube-proxy's --iptables-min-sync-period (and nftables' minSyncPeriod): 1 s by default. */
export const MIN_SYNC_PERIOD_MS = 1000;
/** Its sync runner's burst: this many syncs may run back to back before the minimum period applies. */
export const SYNC_BURST = 2;

export class KubeProxyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeProxyError';
  }
}

export interface KubeProxyOptions {
  mode?: ProxyMode;
  clusterCidr?: string;
  serviceCidr?: string;
  /** Each sync that failed (the loop tries again a second later), and each that succeeded. */
  onSync?: (result: { node: string; mode: ProxyMode; error?: string }) => void;
  /** The minimum time between syncs after a burst (default MIN_SYNC_PERIOD_MS; 0: every change at once). */
  minSyncPeriodMs?: number;
}

/** A node's rule writer: one full sync per call; service chains that did not change are left as they are (a partial sync). */
export class NodeRules {
  /** Each service port's last written chain content, so an unchanged one is skipped (its counters kept). */
  private last = new Map<string, string>();
  /** The first sync, and any after a failure, is a full one: the jump rules are ensured too. */
  private needFull = true;
  constructor(
    private readonly world: World,
    readonly node: string,
    private readonly opts: Omit<KubeProxyOptions, 'onSync'> = {},
  ) {}

  get mode(): ProxyMode {
    return this.opts.mode ?? 'iptables';
  }

  /** One sync; `full` also ensures the jumps from the built-in chains (kube-proxy does that on its full syncs only). */
  async sync(services: KubeObject[], slices: KubeObject[], full = false): Promise<void> {
    const ports = servicePorts(services, slices);
    if (this.mode === 'nftables') return this.syncNftables(ports);
    return this.syncIptables(ports, full || this.needFull);
  }

  private async syncIptables(ports: ServicePort[], full: boolean): Promise<void> {
    const target = { kind: 'node' as const, node: this.node };
    this.needFull = true;
    // a partial sync reads the nat table (its stale chains); a full one every table, to ensure the jumps too
    const saved = await this.world.exec(target, full ? ['iptables-save'] : ['iptables-save', '-t', 'nat']);
    if (saved.code !== 0)
      throw new KubeProxyError(`kube-proxy on ${this.node}: iptables-save failed: ${saved.stderr.trim()}`);
    const ensure = full ? ensureScript(saved.stdout) : '';
    if (ensure) {
      const r = await this.world.exec(target, ['sh', '-c', ensure]);
      if (r.code !== 0)
        throw new KubeProxyError(
          `kube-proxy on ${this.node} could not ensure its jump rules: ${(r.stderr || r.stdout).trim()}`,
        );
    }
    const existing = chainsOf(tableOf(saved.stdout, 'nat'));
    const now = new Map(ports.map((sp) => [serviceChain(sp), JSON.stringify(sp)]));
    // a full sync rewrites every chain; a partial one only those whose service or endpoints changed
    const unchanged = new Set(
      full ? [] : [...now].filter(([c, v]) => this.last.get(c) === v && existing.includes(c)).map(([c]) => c),
    );
    const text = renderIptables(ports, {
      clusterCidr: this.opts.clusterCidr ?? CLUSTER_CIDR,
      existingNatChains: existing,
      unchanged,
    });
    const r = await this.world.exec(target, ['iptables-restore', '-w', '--noflush', '--counters'], { input: text });
    if (r.code !== 0) {
      this.last.clear();
      throw new KubeProxyError(`kube-proxy on ${this.node}: iptables-restore failed: ${r.stderr.trim()}`);
    }
    this.last = now;
    this.needFull = false;
  }

  /** Whether the rules are still in place (iptables: the canary chains; nftables: the table). */
  async intact(): Promise<boolean> {
    const check = this.mode === 'nftables' ? `nft list table ip ${NFT_TABLE} >/dev/null 2>&1` : canaryCheckScript();
    const r = await this.world.exec({ kind: 'node', node: this.node }, ['sh', '-c', check]);
    return r.code === 0;
  }

  private async syncNftables(ports: ServicePort[]): Promise<void> {
    const text = renderNftables(ports, {
      clusterCidr: this.opts.clusterCidr ?? CLUSTER_CIDR,
      serviceCidr: this.opts.serviceCidr ?? SERVICE_CIDR,
    });
    const r = await this.world.exec({ kind: 'node', node: this.node }, ['nft', '-f', '-'], { input: text });
    if (r.code !== 0) throw new KubeProxyError(`kube-proxy on ${this.node}: nft -f failed: ${r.stderr.trim()}`);
  }
}

const SERVICES = '/api/v1/services';
const SLICES = '/apis/discovery.k8s.io/v1/endpointslices';

/**
 * kube-proxy on one node: lists Services and EndpointSlices (an informer's list), watches them, and
 * syncs the node's rules after each change, one sync at a time; answers the stop.
 */
export function startKubeProxy(api: ApiClient, world: World, node: string, opts: KubeProxyOptions = {}): () => void {
  const rules = new NodeRules(world, node, opts);
  const objects = { services: new Map<string, KubeObject>(), slices: new Map<string, KubeObject>() };

  const key = (o: KubeObject) => `${o.metadata?.namespace}/${o.metadata?.name}`;
  let stopped = false;
  let synced = false;
  let running = false;
  /** A sync asked for while one ran: after it, one more (full if any of the asks was). */
  let again: boolean | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stops: (() => void)[] = [];
  // the BoundedFrequencyRunner's token bucket: SYNC_BURST syncs at once, then one per minimum period
  const minSync = opts.minSyncPeriodMs ?? MIN_SYNC_PERIOD_MS;
  let tokens = SYNC_BURST;
  let refilled = performance.now();
  const refill = () => {
    const now = performance.now();
    tokens = minSync > 0 ? Math.min(SYNC_BURST, tokens + (now - refilled) / minSync) : SYNC_BURST;
    refilled = now;
  };
  let wantFull = false;

  const sync = async (full = false): Promise<void> => {
    if (stopped || !synced) return;
    if (running) {
      again = (again ?? false) || full;
      return;
    }
    running = true;
    refill();
    tokens -= 1;
    try {
      await rules.sync([...objects.services.values()], [...objects.slices.values()], full);
      opts.onSync?.({ node, mode: rules.mode });
    } catch (e) {
      // a sync cut short by the stop (the world ending under it) is no failure to report
      if (stopped) return;
      opts.onSync?.({ node, mode: rules.mode, error: (e as Error).message });
      setTimeout(() => void sync(), 1000);
    } finally {
      running = false;
    }
    if (again !== undefined && !stopped) {
      const next = again;
      again = undefined;
      soon(next);
    }
  };
  // changes that arrive together (a slice and its Service) make one sync; after a burst, one per minimum period
  const soon = (full = false) => {
    wantFull ||= full;
    if (timer || stopped) return;
    refill();
    const wait = tokens >= 1 ? 5 : Math.max(5, (1 - tokens) * minSync);
    timer = setTimeout(() => {
      timer = undefined;
      const f = wantFull;
      wantFull = false;
      void sync(f);
    }, wait);
  };
  /** Both lists, replacing what the watches built (a reflector's list): true once both answered. */
  const list = async (): Promise<boolean> => {
    try {
      const [svc, eps] = await Promise.all([
        api.call<{ items: KubeObject[] }>('GET', SERVICES),
        api.call<{ items: KubeObject[] }>('GET', SLICES),
      ]);
      objects.services = new Map(svc.items.map((o) => [key(o), o]));
      objects.slices = new Map(eps.items.map((o) => [key(o), o]));
      return true;
    } catch (e) {
      // a list cut short by the stop (the world ending under it) is no failure to report
      if (stopped) return false;
      opts.onSync?.({
        node,
        mode: rules.mode,
        error: `kube-proxy on ${node}: listing Services and EndpointSlices: ${(e as Error).message}`,
      });
      return false;
    }
  };
  /** Watch events that came while a relist ran: applied again over its answer, unless the list has newer. */
  let during: [which: 'services' | 'slices', type: string, o: KubeObject][] | undefined;
  const rv = (o: KubeObject | undefined) => Number(o?.metadata?.resourceVersion ?? 0);
  const apply = (which: 'services' | 'slices', type: string, o: KubeObject) => {
    if (type === 'DELETED') objects[which].delete(key(o));
    else objects[which].set(key(o), o);
  };
  // a watch the API server ended is opened again and replays every object as ADDED; what was deleted
  // in between is not replayed, so a replay (an object seen again unchanged) brings a fresh list
  const relist = () => {
    if (during || stopped) return;
    during = [];
    void list().then((ok) => {
      for (const [which, type, o] of ok ? during! : [])
        if (rv(o) >= rv(objects[which].get(key(o)))) apply(which, type, o);
      during = undefined;
      if (ok) soon();
    });
  };
  const watch = (path: string, which: 'services' | 'slices') => {
    // the watch's own first replay of what the list gave is expected once
    const expected = new Set(objects[which].keys());
    return api.watch(path, (type, o) => {
      if (type === 'BOOKMARK' || type === 'ERROR' || !o?.metadata) return;
      const into = objects[which];
      const had = into.get(key(o));
      const replay = type === 'ADDED' && had?.metadata?.resourceVersion === o.metadata.resourceVersion;
      if (replay && !expected.delete(key(o))) relist();
      during?.push([which, type, o]);
      apply(which, type, o);
      soon();
    });
  };

  // the informers' first list: nothing is written before both are known (kube-proxy's isInitialized)
  const start = async () => {
    while (!stopped && !(await list())) await new Promise((r) => setTimeout(r, 2000));
    if (stopped) return;
    stops.push(watch(SERVICES, 'services'), watch(SLICES, 'slices'));
    synced = true;
    await sync();
  };
  void start();
  // the monitor: flushed tables (a learner's iptables -F, say) get a full sync within a sync period
  const monitor = setInterval(() => {
    if (synced && !running)
      void rules.intact().then(
        (ok) => !ok && void sync(true),
        () => {},
      );
  }, SYNC_PERIOD_MS);
  const periodic = setInterval(() => void sync(true), FULL_SYNC_PERIOD_MS);
  return () => {
    stopped = true;
    clearInterval(periodic);
    clearInterval(monitor);
    if (timer) clearTimeout(timer);
    for (const s of stops) s();
  };
}
