// Following one packet in the running world: the places named (a pod, a node, a Service, an address)
// resolved against the world's kubelet and API, the namespaces to capture in chosen (bounded), and the
// follow run by follow.ts's machinery.
import type { World } from '../world/world.js';
import { followPing, followTransport, nodeSpace, type PathResult, type PathSpace } from './follow.js';

export interface FollowRequest {
  from: string;
  to: string;
  kind: 'ping' | 'tcp' | 'udp';
  port?: number | undefined;
}

/** A pod as the world's kubelet has it: where it runs, its IP and its pinned netns ("" for hostNetwork). */
export interface WorldPod {
  name: string;
  node: string;
  ip: string;
  netns: string;
}

/** A Service as the API has it (default namespace): its ClusterIP ("None" for a headless one) and ports. */
export interface WorldService {
  clusterIP?: string;
  ports: { port: number; protocol: string }[];
}

/** What a follow needs of the running world. */
export interface FollowWorld {
  world: World;
  pods(): WorldPod[];
  /** undefined when the world has no control plane ready (Services cannot be named then). */
  service?: (name: string) => Promise<WorldService | undefined>;
}

/** At most this many namespaces are captured in: every node, then pods on the source's and destination's nodes first. */
export const MAX_SPACES = 16;

/** A follow that cannot be made (an unknown place, no port, no world): what is wrong and what to do. */
export class FollowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FollowError';
  }
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?::(\d{1,5}))?$/;

/** A place resolved: the namespace (when the world has one for it) and the address a packet goes to. */
export interface Place {
  /** The namespace, for a pod or a node. */
  space?: PathSpace;
  ip: string;
  /** A port the place names (ADDR:PORT, a Service's port). */
  port?: number;
  /** For a Service: its name, and the protocol of its port. */
  service?: { name: string; protocol: string };
  label: string;
}

const podSpace = (p: WorldPod): PathSpace => ({
  id: `pod:${p.name}`,
  kind: 'pod',
  node: p.node,
  pod: p.name,
  target: { kind: 'pod', node: p.node, netns: p.netns },
});

/** `pod:x`, `pod/x` → ['pod', 'x']; a bare `x` → [undefined, 'x']. */
function split(place: string): [string | undefined, string] {
  const m = /^(pod|node|svc|service)[:/](.+)$/.exec(place);
  return m ? [m[1] === 'service' ? 'svc' : m[1], m[2]!] : [undefined, place];
}

function podPlace(w: FollowWorld, name: string, asked: string): Place {
  const p = w.pods().find((x) => x.name === name)!;
  if (!p.netns)
    throw new FollowError(
      `${asked}: pod ${name} is on its node's network (hostNetwork): follow from node:${p.node} instead`,
    );
  if (!p.ip)
    throw new FollowError(`${asked}: pod ${name} has no IP yet: wait until it runs (podnet path needs its address)`);
  return { space: podSpace(p), ip: p.ip, label: `pod/${name}` };
}

/** Resolves a place of the running world; `source` places must be a pod or a node (something that can send). */
export async function resolvePlace(w: FollowWorld, asked: string, source: boolean): Promise<Place> {
  const [kind, name] = split(asked);
  const ip = IPV4.exec(asked);
  if (ip && !kind) {
    if (source)
      throw new FollowError(
        `${asked}: a packet is sent from a pod or a node, not an address: name one (pod:NAME, node:NAME)`,
      );
    if (ip.slice(1, 5).some((o) => Number(o) > 255)) throw new FollowError(`${asked}: not an IPv4 address`);
    const port = ip[5] !== undefined ? Number(ip[5]) : undefined;
    if (port !== undefined && (port < 1 || port > 65535)) throw new FollowError(`${asked}: a port is 1 to 65535`);
    return { ip: ip.slice(1, 5).join('.'), ...(port !== undefined ? { port } : {}), label: asked };
  }
  const pods = w.pods();
  const isPod = pods.some((p) => p.name === name);
  const node = w.world.nodes.get(name);
  if ((kind === 'pod' || (!kind && isPod)) && isPod) return podPlace(w, name, asked);
  if ((kind === 'node' || (!kind && !isPod)) && node)
    return { space: nodeSpace(node.name), ip: node.underlayIp, label: node.name };
  if (kind === 'svc' || (!kind && !isPod && !node)) {
    if (source) throw new FollowError(`${asked}: a packet is sent from a pod or a node, not a Service`);
    if (!w.service)
      throw new FollowError(
        `${asked}: Services are read from the world's API server, and this world's control plane is not running (yet): wait for it, or name the address`,
      );
    const svc = await w.service(name);
    if (svc) {
      if (!svc.clusterIP || svc.clusterIP === 'None')
        throw new FollowError(
          `${asked}: Service ${name} has no ClusterIP (a headless Service): follow to one of its pods instead`,
        );
      const first = svc.ports[0];
      return {
        ip: svc.clusterIP,
        ...(first ? { port: first.port } : {}),
        service: { name, protocol: (first?.protocol ?? 'TCP').toLowerCase() },
        label: `Service ${name}`,
      };
    }
  }
  const what = kind === 'pod' ? 'pod' : kind === 'node' ? 'node' : kind === 'svc' ? 'Service' : 'pod, node or Service';
  const known = [...pods.map((p) => `pod:${p.name}`), ...[...w.world.nodes.keys()].map((n) => `node:${n}`)].join(', ');
  throw new FollowError(`${asked}: no ${what} of that name in the running world (it has ${known || 'no pods'})`);
}

/** The namespaces to capture in: every node, and the pods (with a netns), nearest first, at most MAX_SPACES in all. */
export function spacesFor(w: FollowWorld, from: PathSpace, to: Place): { spaces: PathSpace[]; limited?: string } {
  const nodes = [...w.world.nodes.keys()].map(nodeSpace);
  const near = new Set([from.node, to.space?.node].filter(Boolean));
  const pods = w
    .pods()
    .filter((p) => p.netns && p.ip)
    .map(podSpace)
    .sort((a, b) => Number(near.has(b.node)) - Number(near.has(a.node)));
  // the source's namespace first (its capture names the marker), the destination's always in
  const wanted = [from, ...(to.space ? [to.space] : []), ...nodes, ...pods];
  const all = [...new Map(wanted.map((s) => [s.id, s])).values()];
  const spaces = all.slice(0, MAX_SPACES);
  const left = all.slice(MAX_SPACES).map((s) => s.id);
  return {
    spaces,
    ...(left.length
      ? {
          limited: `captured in ${MAX_SPACES} namespaces at most (every node, then the pods on the source's and destination's nodes): ${left.join(', ')} not captured`,
        }
      : {}),
  };
}

/** The address the source's kernel sends from toward dst (ip route get's src), or undefined when it has no route. */
async function sourceAddress(world: World, from: PathSpace, dst: string): Promise<string | undefined> {
  const r = await world.exec(from.target, ['ip', 'route', 'get', dst]);
  return r.code === 0 ? / src (\S+)/.exec(r.stdout)?.[1] : undefined;
}

/** Follows one packet in the running world, as `podnet path FROM TO` and the topology's "Follow a packet" ask. */
export async function followInWorld(w: FollowWorld, req: FollowRequest): Promise<PathResult> {
  const from = await resolvePlace(w, req.from, true);
  const to = await resolvePlace(w, req.to, false);
  const fromSpace = from.space!;
  // the address goes into the sender's command line: an IPv4 address only (a Service's, a pod's, as given)
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(to.ip))
    throw new FollowError(`${req.to}: its address ${JSON.stringify(to.ip)} is not IPv4: podnet path follows IPv4 only`);
  if (to.space?.id === fromSpace.id)
    throw new FollowError(`${req.from} → ${req.to}: the source and the destination are the same namespace`);
  let port = req.port ?? to.port;
  if (req.kind !== 'ping' && port === undefined)
    throw new FollowError(
      `${req.to}: a ${req.kind.toUpperCase()} follow needs a port: give --port N, or name ADDR:PORT or a Service`,
    );
  if (req.kind !== 'ping' && to.service && to.service.protocol !== req.kind)
    throw new FollowError(
      `${req.to}: Service ${to.service.name}'s port ${to.port} is ${to.service.protocol.toUpperCase()}: follow it with --kind ${to.service.protocol}`,
    );
  const { spaces, limited } = spacesFor(w, fromSpace, to);
  // a pod's own address, or the node's address toward the destination (the kernel's choice)
  const src = fromSpace.kind === 'pod' ? from.ip : ((await sourceAddress(w.world, fromSpace, to.ip)) ?? from.ip);
  const base = { spaces, from: fromSpace, ...(to.space ? { toSpace: to.space.id } : {}), src, dst: to.ip };
  let r: PathResult;
  if (req.kind === 'ping') r = await followPing(w.world, base);
  else {
    port ??= 0;
    const natNode = spaces.find((s) => s.id === `node:${fromSpace.node}`)!;
    r = await followTransport(w.world, req.kind, { ...base, port, natNode });
  }
  r.captured = spaces.map((s) => s.id);
  if (limited) r.limited = limited;
  return r;
}
