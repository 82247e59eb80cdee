// Following a packet: captures (tcpdump -i any) in each namespace on the path, one marked packet sent,
// the captures stopped by the PIDs started, parsed and ordered by time; each hop's decision read from the
// kernel there (route lookup, neighbour, bridge/VXLAN FDB, and for a Service the firewall's own trace).
import type { Target, World } from '../world/world.js';
import { parseCapture, type Captured, type Direction, type SeenPacket } from './capture-lines.js';
import { natFromCounters, parseTrace, type NatDecision } from './nat-trace.js';

/** A namespace as the topology names it (src-main/netview: `node:NAME`, `pod:NAME`). */
export interface PathSpace {
  id: string;
  kind: 'node' | 'pod';
  node: string;
  pod?: string;
  target: Target;
}

/** A node's namespace as a follow captures in it. */
export const nodeSpace = (node: string): PathSpace => ({
  id: `node:${node}`,
  kind: 'node',
  node,
  target: { kind: 'node', node },
});

export interface RouteDecision {
  /** The command run in the hop's namespace, as a learner would type it. */
  command: string;
  /** Its output, or its error when the lookup failed (no route). */
  result: string;
  ok: boolean;
  dev?: string;
  via?: string;
  /** local: delivered to this namespace. */
  type?: 'local' | 'unicast';
}

export interface Decision {
  route?: RouteDecision;
  /** The neighbour entry for the next hop (the gateway, or the destination on a connected route). */
  neigh?: { dst: string; dev: string; lladdr?: string; state: string[] } | { dst: string; dev: string; missing: true };
  /** A bridge's FDB entry for the destination MAC (its port), or a VXLAN device's (the remote underlay address). */
  fdb?: { mac: string; dev: string; master?: string; dst?: string; state?: string; flags?: string[] };
  /** The firewall's own trace of the rules the packet met (a Service's DNAT). */
  nat?: NatDecision;
  /** An address changed since the leg's previous hop: a DNAT, or conntrack undoing one on the reply (inferred from the captures). */
  rewritten?: { field: 'source' | 'destination'; from: string; to: string; by: string };
}

export interface Hop {
  /** 'request' for the packet sent, 'reply' for the answer. */
  leg: 'request' | 'reply';
  space: string;
  node: string;
  pod?: string;
  ifname: string;
  /** The interface's kind (veth, bridge, vxlan) and its bridge, from `ip -json -d link`. */
  kind?: string;
  master?: string;
  direction: Direction;
  /** Seconds since the epoch (kernel time stamp). */
  time: number;
  packet: SeenPacket;
  vxlan?: { vni: number; inner: SeenPacket };
  decision: Decision;
}

export interface Drop {
  /** The namespace it stopped in (the last hop's, or the sender's when it never left it). */
  space: string;
  /** The last hop where the packet was seen; absent when the sender's own kernel refused to send it. */
  lastSeen?: Hop;
  reason: 'no route' | 'no neighbour' | 'rule' | 'unknown';
  /** What the kernel said there: the failed lookup, the neighbour entry, the rule whose counter moved. */
  detail: string;
}

export interface PathResult {
  /** What was sent: an ICMP echo (a ping), a TCP SYN, a UDP datagram. */
  kind: 'icmp' | 'tcp' | 'udp';
  from: string;
  to: string;
  /** The marker the hops were matched by. */
  marker: string;
  hops: Hop[];
  /** Set when the request never reached its destination. */
  drop?: Drop;
  /** The packet's own time through the path: first hop to last request hop, in ms. */
  transitMs?: number;
  /** Where the follow's own time went, in ms from its start: captures listening, sent, captures stopped, done. */
  timings?: { listening: number; sent: number; stopped: number; done: number };
  /** The namespaces captured in (a running world's follow bounds them: FollowLimits in follow-in-world.ts). */
  captured?: string[];
  /** Set when some namespaces of the world were left out of the capture, saying which and why. */
  limited?: string;
}

interface Capture {
  space: PathSpace;
  proc: ReturnType<World['spawn']>;
  out: string;
  err: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts tcpdump on every interface of each namespace; resolves once each says it is listening. */
async function startCaptures(
  world: World,
  spaces: PathSpace[],
  filter: string,
  timeoutMs = 30_000,
): Promise<Capture[]> {
  const caps = spaces.map((space): Capture => {
    // -Z root under fakeroot: tcpdump's switch to user tcpdump is refused in a user namespace (docs/authoring.md)
    const argv = [
      'fakeroot',
      'tcpdump',
      '-Z',
      'root',
      '-i',
      'any',
      '--immediate-mode',
      '-l',
      '-n',
      '-e',
      '-tt',
      '-vv',
      filter,
    ];
    const c: Capture = { space, proc: world.spawn(space.target, argv), out: '', err: '' };
    c.proc.on('stdout', (b) => (c.out += b.toString()));
    c.proc.on('stderr', (b) => (c.err += b.toString()));
    return c;
  });
  const end = Date.now() + timeoutMs;
  while (caps.some((c) => !c.err.includes('listening on'))) {
    const dead = caps.find((c) => c.proc.hasExited);
    if (dead || Date.now() > end) {
      await stopCaptures(caps);
      const c = dead ?? caps.find((x) => !x.err.includes('listening on'))!;
      throw new Error(
        `podnet path: tcpdump in ${c.space.id} ${dead ? 'exited' : `did not start listening within ${timeoutMs / 1000} s`}: ${c.err.trim() || '(no output)'}`,
      );
    }
    await sleep(20);
  }
  return caps;
}

/**
 * Waits for the captures to catch up (immediate mode: each packet is printed as it comes, but each tcpdump
 * runs when it is scheduled): until the source's capture shows the answer the sender got (when it got one),
 * then until no capture has printed for quietMs; at most maxMs in all.
 */
async function settle(caps: Capture[], answered: RegExp | undefined, quietMs = 100, maxMs = 3000): Promise<void> {
  const end = Date.now() + maxMs;
  while (answered && !answered.test(caps[0]!.out) && Date.now() < end) await sleep(5);
  let size = -1;
  let still = Date.now();
  for (;;) {
    const now = caps.reduce((n, c) => n + c.out.length, 0);
    if (now !== size) [size, still] = [now, Date.now()];
    if (Date.now() - still >= quietMs || Date.now() > end) return;
    await sleep(5);
  }
}

/** Stops each capture by the PID started (SIGINT: tcpdump flushes and exits), and waits for each. */
async function stopCaptures(caps: Capture[]): Promise<void> {
  for (const c of caps) c.proc.kill(2);
  await Promise.all(
    caps.map((c) => Promise.race([c.proc.exited, sleep(5000).then(() => c.proc.kill(9))]).then(() => c.proc.exited)),
  );
}

interface LinkInfo {
  ifname: string;
  kind?: string;
  master?: string;
  address?: string;
}

/** A link as `ip -json -d link|addr show` prints it (addr show adds its addresses). */
interface IpLink {
  ifname: string;
  master?: string;
  address?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { family?: string; local?: string }[];
}

async function linksOf(world: World, t: Target): Promise<Map<string, LinkInfo>> {
  return linkInfos(JSON.parse(await world.run(t, ['ip', '-json', '-d', 'link', 'show'])) as IpLink[]);
}

function linkInfos(raw: IpLink[]): Map<string, LinkInfo> {
  return new Map(
    raw.map((l) => [
      l.ifname,
      {
        ifname: l.ifname,
        ...(l.linkinfo?.info_kind ? { kind: l.linkinfo.info_kind } : {}),
        ...(l.master ? { master: l.master } : {}),
        ...(l.address ? { address: l.address } : {}),
      },
    ]),
  );
}

interface NsState {
  links: Map<string, LinkInfo>;
  neigh: { dst: string; dev: string; lladdr?: string; state?: string[] }[];
  fdb: {
    mac: string;
    ifname?: string;
    dev?: string;
    master?: string;
    dst?: string;
    state?: string;
    flags?: string[];
  }[];
}

async function stateOf(world: World, t: Target): Promise<NsState> {
  const [links, neigh, fdb] = await Promise.all([
    linksOf(world, t),
    world.run(t, ['ip', '-json', 'neigh', 'show']).then((s) => JSON.parse(s || '[]') as NsState['neigh']),
    world.run(t, ['bridge', '-json', 'fdb', 'show']).then((s) => JSON.parse(s || '[]') as NsState['fdb']),
  ]);
  return { links, neigh, fdb };
}

async function routeGet(world: World, t: Target, dst: string, src: string, iif?: string): Promise<RouteDecision> {
  const args = ['route', 'get', dst, 'from', src, ...(iif ? ['iif', iif] : [])];
  const r = await world.exec(t, ['ip', ...args]);
  const command = `ip ${args.join(' ')}`;
  if (r.code !== 0) return { command, result: (r.stderr || r.stdout).trim(), ok: false };
  const text = r.stdout.trim().split('\n')[0]!.trim();
  const dev = / dev (\S+)/.exec(text)?.[1];
  const via = / via (\S+)/.exec(text)?.[1];
  return {
    command,
    result: text,
    ok: true,
    ...(dev ? { dev } : {}),
    ...(via ? { via } : {}),
    type: text.startsWith('local ') ? 'local' : 'unicast',
  };
}

function neighOf(s: NsState, dst: string, dev: string): Decision['neigh'] {
  const n = s.neigh.find((x) => x.dst === dst && x.dev === dev);
  return n
    ? { dst, dev, ...(n.lladdr ? { lladdr: n.lladdr } : {}), state: n.state ?? [] }
    : { dst, dev, missing: true };
}

function fdbOf(s: NsState, mac: string | undefined, dev: string): Decision['fdb'] | undefined {
  if (!mac) return undefined;
  const link = s.links.get(dev);
  // a bridge's entries name the port (ifname) and the bridge (master); a VXLAN device's name the remote (dst)
  const e =
    link?.kind === 'bridge'
      ? s.fdb.find((x) => x.mac === mac && (x.master === dev || (x.ifname === dev && !x.master)))
      : s.fdb.find((x) => x.mac === mac && x.ifname === dev);
  if (!e) return undefined;
  return {
    mac,
    dev: e.ifname ?? dev,
    ...(e.master ? { master: e.master } : {}),
    ...(e.dst ? { dst: e.dst } : {}),
    ...(e.state ? { state: e.state } : {}),
    ...(e.flags ? { flags: e.flags } : {}),
  };
}

/** The packet the hop's decision is about: a VXLAN packet's inner frame on the overlay, the packet itself otherwise. */
const about = (c: Captured) => c.packet;

/** Reads each hop's decision from the kernel in its namespace. */
async function decide(world: World, hops: Omit<Hop, 'decision'>[], spaces: Map<string, PathSpace>): Promise<Hop[]> {
  const states = new Map<string, NsState>();
  await Promise.all(
    [...new Set(hops.map((h) => h.space))].map(async (id) =>
      states.set(id, await stateOf(world, spaces.get(id)!.target)),
    ),
  );
  // each hop's lookups are independent of the others': read them all at once
  return Promise.all(hops.map((h, i) => decideHop(world, hops, i, h, spaces, states)));
}

async function decideHop(
  world: World,
  hops: Omit<Hop, 'decision'>[],
  i: number,
  h: Omit<Hop, 'decision'>,
  spaces: Map<string, PathSpace>,
  states: Map<string, NsState>,
): Promise<Hop> {
  {
    const t = spaces.get(h.space)!.target;
    const s = states.get(h.space)!;
    const d: Decision = {};
    const p = h.packet;
    if (h.vxlan) {
      // the outer packet: the underlay's own lookup (sent by the VXLAN device; on arrival, local to its UDP port)
      d.route = await routeGet(world, t, p.dst, p.src, h.direction === 'in' ? h.ifname : undefined);
      if (h.direction === 'out' && d.route.ok) d.neigh = neighOf(s, d.route.via ?? p.dst, h.ifname);
    } else if (h.direction === 'in' && !h.master) {
      // the lookup that decided where it went from here; after a DNAT, the destination it leaves with
      const leaving = hops.slice(i + 1).find((x) => x.space === h.space && x.leg === h.leg && x.direction === 'out');
      d.route = await routeGet(world, t, leaving && !leaving.vxlan ? leaving.packet.dst : p.dst, p.src, h.ifname);
    } else if (h.direction === 'out' && !h.master) {
      const arrived = hops
        .slice(0, i)
        .reverse()
        .find((x) => x.space === h.space && x.leg === h.leg && x.direction === 'in');
      // a packet leaving a namespace it arrived in was forwarded (iif); one that did not arrive was made there
      const fwd = arrived && !arrived.master ? arrived.ifname : arrived?.master;
      d.route = await routeGet(world, t, p.dst, p.src, fwd);
      if (d.route.ok && d.route.type !== 'local') {
        const next = d.route.via ?? p.dst;
        d.neigh = neighOf(s, next, h.ifname);
        const mac = d.neigh && 'lladdr' in d.neigh ? d.neigh.lladdr : undefined;
        const f = h.kind === 'vxlan' || h.kind === 'bridge' ? fdbOf(s, mac, h.ifname) : undefined;
        if (f) d.fdb = f;
      }
    } else if (h.master) {
      // a bridge port: the bridge's FDB entry for where the frame goes — the pod's MAC out of the port it
      // leaves by (bridged on one node, or routed to it), the bridge's own MAC into its IP stack
      const next = hops.slice(i + 1).find((x) => x.space === h.space && x.leg === h.leg);
      const outPort =
        h.direction === 'out' ? h : next?.master === h.master && next.direction === 'out' ? next : undefined;
      let dstMac: string | undefined;
      if (outPort) {
        const n = neighOf(s, p.dst, h.master);
        const learned = s.fdb.filter(
          (x) => x.ifname === outPort.ifname && x.master === h.master && x.state !== 'permanent',
        );
        // the node's neighbour entry when it names a MAC behind that port; else the MAC the bridge learned there
        dstMac =
          n && 'lladdr' in n && learned.some((x) => x.mac === n.lladdr)
            ? n.lladdr
            : learned.length === 1
              ? learned[0]!.mac
              : undefined;
      } else if (h.direction === 'in') dstMac = s.links.get(h.master)?.address;
      const f = fdbOf(s, dstMac, h.master);
      if (f) d.fdb = f;
    }
    const prev = hops
      .slice(0, i)
      .reverse()
      .find((x) => x.leg === h.leg);
    if (prev && !prev.vxlan && !h.vxlan) {
      if (prev.packet.src !== p.src)
        d.rewritten = { field: 'source', from: prev.packet.src, to: p.src, by: 'conntrack: reply of a DNAT' };
      else if (prev.packet.dst !== p.dst)
        d.rewritten = { field: 'destination', from: prev.packet.dst, to: p.dst, by: 'DNAT' };
    }
    return { ...h, decision: d };
  }
}

/** Matches each capture's packets against the marker and makes them hops, ordered by time. */
function hopsOf(
  caps: Capture[],
  links: Map<string, Map<string, LinkInfo>>,
  match: (p: SeenPacket) => 'request' | 'reply' | undefined,
): Omit<Hop, 'decision'>[] {
  const hops: Omit<Hop, 'decision'>[] = [];
  for (const c of caps)
    for (const x of parseCapture(c.out)) {
      const leg = match(x.vxlan?.inner ?? x.packet);
      if (!leg) continue;
      const l = links.get(c.space.id)?.get(x.ifname);
      hops.push({
        leg,
        space: c.space.id,
        node: c.space.node,
        ...(c.space.pod ? { pod: c.space.pod } : {}),
        ifname: x.ifname,
        ...(l?.kind ? { kind: l.kind } : {}),
        ...(l?.master ? { master: l.master } : {}),
        direction: x.direction,
        time: x.time,
        packet: about(x),
        ...(x.vxlan ? { vxlan: x.vxlan } : {}),
      });
    }
  hops.sort((a, b) => a.time - b.time);
  return chainTies(hops);
}

/** Stamps this close (s) are one moment: AF_PACKET stamps a veth's "out" and its peer's "in" apart by a µs either way. */
const TIE_S = 0.000005;

/**
 * The kernel's stamps order hops; stamps within TIE_S are put in the order a packet goes: after an "in",
 * the next hop in the same namespace; after a VXLAN device's "out", the underlay's
 * (the encapsulated packet); after a bridge's "out", its port's; after any other "out", an "in"
 * in another namespace.
 */
export function chainTies<
  T extends { time: number; space: string; direction: Direction; ifname: string; kind?: string; master?: string },
>(hops: T[]): T[] {
  const out: T[] = [];
  let i = 0;
  while (i < hops.length) {
    let j = i + 1;
    while (j < hops.length && hops[j]!.time - hops[j - 1]!.time <= TIE_S) j++;
    const group = hops.slice(i, j);
    while (group.length) {
      const prev = out[out.length - 1];
      const fits = (h: T) =>
        !prev ||
        (prev.direction === 'in'
          ? h.space === prev.space
          : prev.kind === 'vxlan'
            ? h.space === prev.space && h.direction === 'out'
            : prev.kind === 'bridge'
              ? h.space === prev.space && h.master === prev.ifname
              : h.space !== prev.space && h.direction === 'in');
      const k = Math.max(0, group.findIndex(fits));
      out.push(group.splice(k, 1)[0]!);
    }
    i = j;
  }
  return out;
}

/** Why the request stopped at its last hop: the route lookup, the neighbour entry, a firewall counter. */
async function dropOf(world: World, last: Hop, spaces: Map<string, PathSpace>, filterBefore: string): Promise<Drop> {
  const t = spaces.get(last.space)!.target;
  const p = last.packet;
  const iif = last.direction === 'in' ? (last.master ?? last.ifname) : undefined;
  const route = await routeGet(world, t, p.dst, p.src, iif);
  const at = { space: last.space, lastSeen: last };
  if (!route.ok) return { ...at, reason: 'no route', detail: `${route.command}: ${route.result}` };
  if (route.type !== 'local' && route.dev) {
    const s = await stateOf(world, t);
    const n = neighOf(s, route.via ?? p.dst, route.dev);
    if (n && ('missing' in n || n.state.includes('FAILED') || n.state.includes('INCOMPLETE')))
      return {
        ...at,
        reason: 'no neighbour',
        detail: `${route.command}: ${route.result}; neighbour ${n.dst} on ${n.dev}: ${'missing' in n ? 'none' : n.state.join(',')}`,
      };
  }
  const moved = counterMoves(filterBefore, await world.run(t, ['iptables-save', '-c', '-t', 'filter']));
  const dropRule = moved.find((r) => / -j (DROP|REJECT)\b/.test(r));
  if (dropRule) return { ...at, reason: 'rule', detail: dropRule };
  return { ...at, reason: 'unknown', detail: `${route.command}: ${route.result}` };
}

/** The rules (iptables-save -c) whose packet counter moved between two saves. */
export function counterMoves(before: string, after: string): string[] {
  const count = (text: string) => {
    const m = new Map<string, number>();
    for (const line of text.split('\n')) {
      const r = /^\[(\d+):\d+\] (-A .*)$/.exec(line);
      if (r) m.set(r[2]!, (m.get(r[2]!) ?? 0) + Number(r[1]));
    }
    return m;
  };
  const a = count(before);
  return [...count(after)].filter(([rule, n]) => n > (a.get(rule) ?? 0)).map(([rule]) => rule);
}

export interface FollowOptions {
  /** The namespaces to capture in (the source's first), and where the destination lives. */
  spaces: PathSpace[];
  from: PathSpace;
  /**
   * The destination's namespace, for knowing whether the request arrived; without it (a Service, an address),
   * the request arrived where a namespace owns the address it came in with.
   */
  toSpace?: string;
}

/**
 * Each namespace's links (to name a hop's kind and bridge), filter counters (to name a dropping rule) and
 * own addresses (to know where a request arrived), read at once.
 */
async function beforeSending(world: World, spaces: PathSpace[]) {
  const links = new Map<string, Map<string, LinkInfo>>();
  const before = new Map<string, string>();
  const owners = new Map<string, Set<string>>();
  await Promise.all(
    spaces.map(async (s) => {
      // one read gives both: addr show -d prints each link's details and its addresses
      const raw = JSON.parse((await world.run(s.target, ['ip', '-json', '-d', 'addr', 'show'])) || '[]') as IpLink[];
      links.set(s.id, linkInfos(raw));
      owners.set(
        s.id,
        new Set(raw.flatMap((l) => (l.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => a.local ?? ''))),
      );
      before.set(s.id, (await world.exec(s.target, ['iptables-save', '-c', '-t', 'filter'])).stdout);
    }),
  );
  return { links, before, owners };
}

type Before = Awaited<ReturnType<typeof beforeSending>>;

/** A ping from a pod or a node: one echo request of a size nothing else sends, and its reply. */
export async function followPing(
  world: World,
  opts: FollowOptions & { dst: string; src: string },
): Promise<PathResult> {
  const t0 = performance.now();
  const at = () => Math.round((performance.now() - t0) * 10) / 10;
  const size = 321; // the payload size is the marker; the ICMP id (the ping's PID) confirms it
  const ipLen = size + 28;
  const spaceById = new Map(opts.spaces.map((s) => [s.id, s]));
  const b = await beforeSending(world, opts.spaces);
  const caps = await startCaptures(world, opts.spaces, `icmp or udp port 4789`);
  const listening = at();
  let sent: number;
  let said: string;
  try {
    const r = await world.exec(opts.from.target, ['ping', '-c', '1', '-W', '2', '-s', String(size), opts.dst], {
      timeoutMs: 10_000,
    });
    said = (r.stderr || r.stdout).trim();
    sent = at();
    await settle(caps, r.code === 0 ? new RegExp(`ICMP echo reply, id \\d+, seq 0, length ${size + 8}`) : undefined);
  } finally {
    await stopCaptures(caps);
  }
  const stopped = at();
  const raw = hopsOf(caps, b.links, (p) => {
    if (p.l4.proto !== 'icmp' || p.length !== ipLen || !p.l4.icmp) return undefined;
    if (p.l4.icmp.type === 'echo request' && p.src === opts.src && p.dst === opts.dst) return 'request';
    if (p.l4.icmp.type === 'echo reply' && p.src === opts.dst && p.dst === opts.src) return 'reply';
    return undefined;
  });
  // the first echo request's id is the ping's own; anything else of that size is not ours
  const firstReq = raw.find((h) => h.leg === 'request');
  const id = (firstReq?.vxlan?.inner ?? firstReq?.packet)?.l4.icmp?.id;
  const ours = raw.filter((h) => (h.vxlan?.inner ?? h.packet).l4.icmp?.id === id);
  const hops = await decide(world, ours, spaceById);
  const r = await finish(
    world,
    { kind: 'icmp', from: opts.from.id, to: opts.dst, marker: `ICMP id ${id ?? '?'}, ${ipLen} bytes`, hops },
    opts,
    spaceById,
    b,
    { src: opts.src, said },
  );
  r.timings = { listening, sent, stopped, done: at() };
  return r;
}

/** Whether the request came in to a namespace that owns its (possibly DNATed) destination, or to toSpace. */
function arrived(req: Hop[], opts: FollowOptions, owners: Before['owners']): boolean {
  return req.some(
    (h) =>
      h.direction === 'in' &&
      (opts.toSpace !== undefined
        ? h.space === opts.toSpace
        : !h.vxlan && !h.master && (owners.get(h.space)?.has(h.packet.dst) ?? false)),
  );
}

async function finish(
  world: World,
  r: PathResult,
  opts: FollowOptions,
  spaces: Map<string, PathSpace>,
  b: Before,
  sender: { src: string; said: string },
): Promise<PathResult> {
  const req = r.hops.filter((h) => h.leg === 'request');
  if (req.length) r.transitMs = Math.round((req[req.length - 1]!.time - req[0]!.time) * 1e6) / 1000;
  if (arrived(req, opts, b.owners)) return r;
  if (req.length) {
    const last = req[req.length - 1]!;
    r.drop = await dropOf(world, last, spaces, b.before.get(last.space) ?? '');
  } else {
    // nothing left the sender: its own route lookup, or what the sending command said
    const dst = r.to.replace(/:\d+$/, '');
    const route = await routeGet(world, opts.from.target, dst, sender.src);
    r.drop = route.ok
      ? { space: opts.from.id, reason: 'unknown', detail: `nothing was seen leaving ${opts.from.id}: ${sender.said}` }
      : { space: opts.from.id, reason: 'no route', detail: `${route.command}: ${route.result}` };
  }
  return r;
}

/** How each transport is sent, filtered and matched: the connection's first packet and its answer. */
const TRANSPORTS = {
  tcp: {
    // the SYN and the SYN-ACK only: a connection's other packets say nothing more about the path
    filter: 'udp port 4789 or (tcp[tcpflags] & tcp-syn != 0)',
    send: (dst: string, port: number) => [
      'sh',
      '-c',
      `printf 'HEAD / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 ${dst} ${port} >/dev/null`,
    ],
    first: (p: SeenPacket) => p.l4.flags === 'S',
    answer: (p: SeenPacket) => p.l4.flags === 'S.',
    answered: /Flags \[S\.\]/,
  },
  udp: {
    // busybox nc has no -u here: bash's /dev/udp sends one datagram (the host's bash, read-only in the world)
    filter: 'udp',
    send: (dst: string, port: number) => ['bash', '-c', `printf 'podnet path\\n' > /dev/udp/${dst}/${port}`],
    first: () => true,
    answer: () => true,
    answered: undefined,
  },
} as const;

/**
 * A TCP or UDP request from a pod or a node: its first packet (a SYN; a datagram) and the answer, matched by
 * the sender's source port; the DNAT decision from the firewall's own trace (iptables-nft's TRACE, read
 * with xtables-monitor --trace) in natNode (the sender's node), the TRACE rules removed after, always.
 */
export async function followTransport(
  world: World,
  proto: 'tcp' | 'udp',
  opts: FollowOptions & { src: string; dst: string; port: number; natNode: PathSpace },
): Promise<PathResult> {
  const t0 = performance.now();
  const at = () => Math.round((performance.now() - t0) * 10) / 10;
  const how = TRANSPORTS[proto];
  const spaceById = new Map(opts.spaces.map((s) => [s.id, s]));
  const b = await beforeSending(world, opts.spaces);
  const nt = opts.natNode.target;
  const match = ['-s', opts.src, '-d', opts.dst, '-p', proto, '--dport', String(opts.port)];
  const traceMatch = [...match, ...(proto === 'tcp' ? ['--syn'] : []), '-j', 'TRACE'];
  // PREROUTING for a pod's packet, OUTPUT for the node's own
  const chains = ['PREROUTING', 'OUTPUT'];
  const natBefore = (await world.exec(nt, ['iptables-save', '-c', '-t', 'nat'])).stdout;
  const monitor = world.spawn(nt, ['xtables-monitor', '--trace']);
  let traceOut = '';
  monitor.on('stdout', (bytes) => (traceOut += bytes.toString()));
  let caps: Capture[] = [];
  let listening: number;
  let sent: number;
  let said: string;
  try {
    for (const c of chains) await world.run(nt, ['iptables', '-t', 'raw', '-I', c, ...traceMatch]);
    caps = await startCaptures(world, opts.spaces, how.filter);
    listening = at();
    const r = await world.exec(opts.from.target, [...how.send(opts.dst, opts.port)], { timeoutMs: 15_000 });
    said = (r.stderr || r.stdout).trim();
    sent = at();
    await settle(caps, r.code === 0 ? how.answered : undefined);
  } finally {
    if (caps.length) await stopCaptures(caps);
    for (const c of chains) await world.exec(nt, ['iptables', '-t', 'raw', '-D', c, ...traceMatch]);
    monitor.kill(2);
    await Promise.race([monitor.exited, sleep(5000).then(() => monitor.kill(9))]);
  }
  const stopped = at();
  const ours = (p: SeenPacket) => p.l4.proto === proto && p.l4.dport !== 4789 && p.l4.sport !== 4789;
  // the sender's first packet names the source port: the marker for every later hop (a DNAT keeps it)
  const all = hopsOf(caps, b.links, (p) => (ours(p) ? 'request' : undefined));
  const first = all.find(
    (h) =>
      h.space === opts.from.id &&
      h.packet.dst === opts.dst &&
      h.packet.l4.dport === opts.port &&
      how.first(h.packet) &&
      !h.vxlan,
  );
  const sport = first?.packet.l4.sport;
  const raw = hopsOf(caps, b.links, (p) => {
    if (!ours(p) || sport === undefined) return undefined;
    if (p.l4.sport === sport && how.first(p)) return 'request';
    if (p.l4.dport === sport && how.answer(p)) return 'reply';
    return undefined;
  });
  const hops = await decide(world, raw, spaceById);
  // the kernel's trace; failing that, the nat rules whose counters moved (say which in `source`)
  const nat =
    parseTrace(traceOut, sport, proto) ??
    natFromCounters(
      counterMoves(natBefore, (await world.exec(nt, ['iptables-save', '-c', '-t', 'nat'])).stdout),
      opts.dst,
    );
  if (nat) {
    // where the nat table met it: coming into the sender's node (a pod's packet), or leaving it (the node's own)
    const where = hops.find((h) => h.leg === 'request' && h.space === opts.natNode.id && !h.master);
    if (where) where.decision.nat = nat;
  }
  const r = await finish(
    world,
    {
      kind: proto,
      from: opts.from.id,
      to: `${opts.dst}:${opts.port}`,
      marker: `${proto.toUpperCase()} source port ${sport ?? '?'}`,
      hops,
    },
    opts,
    spaceById,
    b,
    { src: opts.src, said },
  );
  r.timings = { listening, sent, stopped, done: at() };
  return r;
}

/** A TCP request (its SYN and SYN-ACK) from a pod or a node, as followTransport. */
export const followTcp = (world: World, opts: Parameters<typeof followTransport>[2]) =>
  followTransport(world, 'tcp', opts);
