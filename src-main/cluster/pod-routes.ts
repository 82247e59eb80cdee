// The cluster's network, as a routed one (no overlay): each node routes every other node's pod CIDR
// (spec.podCIDR) via that node's underlay address — the routes flannel's host-gw backend or Calico
// without encapsulation install (lab 11 adds them by hand) — and the Service CIDR to its underlay
// link: a ClusterIP must be routable before the OUTPUT hook's DNAT can rewrite it, which a real node's
// default route does; these nodes have none, so this route stands in for it (lab 12 does the same).
import type { World } from '../world/world.js';
import type { ApiClient } from './cluster.js';
import { SERVICE_CIDR } from './kube-proxy.js';
import type { KubeObject } from './resources.js';

/** The routes agent's User-Agent, one per node (a lab stand-in for a CNI's route daemon, like flanneld). */
export const routesAgent = (node: string) => `podnet-routes/v1.36.0 (linux/amd64) podnet ${node}`;

/** The underlay interface of every world node. */
const UNDERLAY_DEV = 'eth0';

export class PodRoutesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PodRoutesError';
  }
}

/** Another node's pod CIDR and where it is: its InternalIP. */
export function routeOf(o: KubeObject): { cidr: string; via: string } | undefined {
  const cidr = o.spec?.podCIDR;
  const addrs = (o.status?.addresses ?? []) as { type: string; address: string }[];
  const via = addrs.find((a) => a.type === 'InternalIP')?.address;
  return typeof cidr === 'string' && via ? { cidr, via } : undefined;
}

async function ipRoute(world: World, node: string, args: string[]): Promise<void> {
  const r = await world.exec({ kind: 'node', node }, ['ip', 'route', ...args]);
  if (r.code !== 0)
    throw new PodRoutesError(`ip route ${args.join(' ')} on ${node} failed: ${(r.stderr || r.stdout).trim()}`);
}

/** One node's routes from the Node objects, as the loop installs them (idempotent: ip route replace). */
export async function installRoutes(world: World, node: string, nodes: KubeObject[]): Promise<void> {
  await ipRoute(world, node, ['replace', SERVICE_CIDR, 'dev', UNDERLAY_DEV]);
  for (const o of nodes) {
    const r = o.metadata?.name !== node ? routeOf(o) : undefined;
    if (r) await ipRoute(world, node, ['replace', r.cidr, 'via', r.via, 'dev', UNDERLAY_DEV]);
  }
}

/**
 * The routes of one node: the Service CIDR's, and one per other node from the Node objects, installed
 * before it resolves, then kept as nodes come and go (a watch); answers the stop.
 */
export async function startPodRoutes(api: ApiClient, world: World, node: string): Promise<() => void> {
  const ip = (args: string[]) => ipRoute(world, node, args);
  /** Each other node's route as installed: name → "CIDR via IP". */
  const installed = new Map<string, { cidr: string; via: string }>();
  const apply = async (type: string, o: KubeObject) => {
    const name = o.metadata?.name;
    if (!name || name === node) return;
    const want = type === 'DELETED' ? undefined : routeOf(o);
    const had = installed.get(name);
    if (had && want && had.cidr === want.cidr && had.via === want.via) return;
    if (had && had.cidr !== want?.cidr) await ip(['del', had.cidr, 'dev', UNDERLAY_DEV]).catch(() => {});
    if (want) await ip(['replace', want.cidr, 'via', want.via, 'dev', UNDERLAY_DEV]);
    if (want) installed.set(name, want);
    else installed.delete(name);
  };
  await ip(['replace', SERVICE_CIDR, 'dev', UNDERLAY_DEV]);
  const nodes = await api.call<{ items: KubeObject[] }>('GET', '/api/v1/nodes');
  for (const o of nodes.items) await apply('ADDED', o);
  // one change at a time, in order: a route replaced is never raced by its own removal
  let chain = Promise.resolve();
  return api.watch('/api/v1/nodes', (type, o) => {
    chain = chain.then(() => apply(type, o)).catch(() => {});
  });
}
