// kube-proxy, one per node: it lists, then watches, Services and EndpointSlices (as the kube-proxy
// component, its User-Agent), and after each change writes the node's rules inside that node's network
// namespace — iptables mode (its default: `iptables-restore --noflush` of its own KUBE-* chains, never
// anyone else's) or nftables mode (`nft -f` of the table `ip kube-proxy`).
import type { World } from '../world/world.js';
import type { ApiClient } from './cluster.js';
import { chainsOf, ensureJumpsScript, renderIptables, serviceChain } from './kube-proxy-iptables.js';
import { renderNftables } from './kube-proxy-nftables.js';
import { servicePorts, type ServicePort } from './kube-proxy-state.js';
import type { KubeObject } from './resources.js';

export type ProxyMode = 'iptables' | 'nftables';
export const PROXY_MODES: readonly ProxyMode[] = ['iptables', 'nftables'];

/** The pod network every node's pod CIDR is carved from (kube-proxy's --cluster-cidr). */
export const CLUSTER_CIDR = '10.244.0.0/16';
/** The Service CIDR ClusterIPs come from (kube-apiserver's --service-cluster-ip-range default). */
export const SERVICE_CIDR = '10.96.0.0/12';

/** kube-proxy's --iptables-sync-period: a sync this often even without a change (it re-ensures the jump rules). */
export const SYNC_PERIOD_MS = 30_000;

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
}

/** A node's rule writer: one full sync per call; service chains that did not change are left as they are (a partial sync). */
export class NodeRules {
  /** Each service port's last written chain content, so an unchanged one is skipped (its counters kept). */
  private last = new Map<string, string>();
  constructor(
    private readonly world: World,
    readonly node: string,
    private readonly opts: Omit<KubeProxyOptions, 'onSync'> = {},
  ) {}

  get mode(): ProxyMode {
    return this.opts.mode ?? 'iptables';
  }

  async sync(services: KubeObject[], slices: KubeObject[]): Promise<void> {
    const ports = servicePorts(services, slices);
    if (this.mode === 'nftables') return this.syncNftables(ports);
    return this.syncIptables(ports);
  }

  private async syncIptables(ports: ServicePort[]): Promise<void> {
    const target = { kind: 'node' as const, node: this.node };
    const ensured = await this.world.exec(target, ['sh', '-c', ensureJumpsScript()]);
    if (ensured.code !== 0)
      throw new KubeProxyError(
        `kube-proxy on ${this.node} could not ensure its jump rules: ${(ensured.stderr || ensured.stdout).trim()}`,
      );
    const existing = chainsOf(ensured.stdout);
    const now = new Map(ports.map((sp) => [serviceChain(sp), JSON.stringify(sp)]));
    const unchanged = new Set(
      [...now].filter(([c, v]) => this.last.get(c) === v && existing.includes(c)).map(([c]) => c),
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
  let again = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stops: (() => void)[] = [];

  const sync = async (): Promise<void> => {
    if (stopped || !synced) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      await rules.sync([...objects.services.values()], [...objects.slices.values()]);
      opts.onSync?.({ node, mode: rules.mode });
    } catch (e) {
      opts.onSync?.({ node, mode: rules.mode, error: (e as Error).message });
      if (!stopped) setTimeout(() => void sync(), 1000);
    } finally {
      running = false;
    }
    if (again && !stopped) {
      again = false;
      void sync();
    }
  };
  // changes that arrive together (a slice and its Service) make one sync
  const soon = () => {
    if (timer || stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void sync();
    }, 5);
  };
  const watch = (path: string, into: Map<string, KubeObject>) =>
    api.watch(path, (type, o) => {
      if (type === 'BOOKMARK' || type === 'ERROR' || !o?.metadata) return;
      if (type === 'DELETED') into.delete(key(o));
      else into.set(key(o), o);
      soon();
    });

  // the informers' first list: nothing is written before both are known (kube-proxy's isInitialized)
  const start = async () => {
    while (!stopped) {
      try {
        const [svc, eps] = await Promise.all([
          api.call<{ items: KubeObject[] }>('GET', SERVICES),
          api.call<{ items: KubeObject[] }>('GET', SLICES),
        ]);
        for (const o of svc.items) objects.services.set(key(o), o);
        for (const o of eps.items) objects.slices.set(key(o), o);
        break;
      } catch (e) {
        opts.onSync?.({
          node,
          mode: rules.mode,
          error: `listing Services and EndpointSlices: ${(e as Error).message}`,
        });
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
    if (stopped) return;
    stops.push(watch(SERVICES, objects.services), watch(SLICES, objects.slices));
    synced = true;
    await sync();
  };
  void start();
  const periodic = setInterval(() => void sync(), SYNC_PERIOD_MS);
  return () => {
    stopped = true;
    clearInterval(periodic);
    if (timer) clearTimeout(timer);
    for (const s of stops) s();
  };
}
