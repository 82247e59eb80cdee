// What a followed packet is, as the engine gives it (src-main/path/follow.ts's PathResult): named here once
// for the renderer, which may not import the engine's modules (they reach into the world).
// TODO(pathengine merge): the contract's own schema, Result<'path.follow'>.

export interface SeenPacket {
  src: string;
  dst: string;
  length: number;
  ttl: number;
  srcMac?: string;
  dstMac?: string;
  l4: {
    proto: 'icmp' | 'tcp' | 'udp';
    icmp?: { type: string; id: number; seq: number };
    sport?: number;
    dport?: number;
    flags?: string;
  };
}

export interface Decision {
  route?: { command: string; result: string; ok: boolean; dev?: string; via?: string; type?: 'local' | 'unicast' };
  neigh?: { dst: string; dev: string; lladdr?: string; state: string[] } | { dst: string; dev: string; missing: true };
  fdb?: { mac: string; dev: string; master?: string; dst?: string; state?: string; flags?: string[] };
  nat?: {
    source: 'trace' | 'counters';
    rules: { table: string; chain: string; verdict: string; rule: string }[];
    serviceChain?: string;
    endpointChain?: string;
    dnatRule?: string;
    backend?: string;
  };
  rewritten?: { field: 'source' | 'destination'; from: string; to: string; by: string };
}

export interface Hop {
  leg: 'request' | 'reply';
  space: string;
  node: string;
  pod?: string;
  ifname: string;
  kind?: string;
  master?: string;
  direction: 'in' | 'out';
  time: number;
  packet: SeenPacket;
  vxlan?: { vni: number; inner: SeenPacket };
  decision: Decision;
}

export interface Drop {
  /** The namespace where it was dropped. */
  space: string;
  /** The last hop where it was seen (none: dropped before any capture saw it). */
  lastSeen?: Hop;
  reason: 'no route' | 'no neighbour' | 'rule' | 'unknown';
  detail: string;
}

export interface PathResult {
  kind: 'icmp' | 'tcp' | 'udp';
  from: string;
  to: string;
  marker: string;
  hops: Hop[];
  drop?: Drop;
  transitMs?: number;
  timings?: { listening: number; sent: number; stopped: number; done: number };
  /** The namespaces that captured. */
  captured?: string[];
  /** Why fewer namespaces captured than the world has. */
  limited?: string;
}

/** What the form asks the engine to follow (the contract's `path.follow` params). */
export interface FollowRequest {
  /** `pod:NAME` or `node:NAME`. */
  from: string;
  /** A pod, a node, a Service's name, or an address (optionally ADDR:PORT). */
  to: string;
  kind: 'ping' | 'tcp' | 'udp';
  port?: number;
}
