// One namespace's network state, read with iproute2's own JSON (so a view shows what `ip -json` shows)
// and normalised into plain rows that can be diffed and cross-referenced.
import type { Target, World } from '../world/world.js';

export interface VxlanInfo {
  /** The VNI (info_data.id). */
  vni: number;
  remote?: string;
  group?: string;
  local?: string;
  /** UDP destination port (info_data.port). */
  port?: number;
  /** Underlay device (info_data.link). */
  dev?: string;
}

export interface Link {
  index: number;
  name: string;
  /** operstate: UP, DOWN, UNKNOWN, LOWERLAYERDOWN, … */
  state: string;
  flags: string[];
  mtu: number;
  master?: string;
  mac?: string;
  /** linkinfo.info_kind: veth, bridge, vxlan, … (absent for plain devices such as lo). */
  kind?: string;
  /** linkinfo.info_slave_kind: bridge when the link is a bridge port. */
  slaveKind?: string;
  /** ifindex of the linked device (a veth's peer, a vlan's parent), counted in netnsId's namespace when set. */
  peerIndex?: number;
  /** link_netnsid: this namespace's id for the namespace holding the linked device (absent: same namespace). */
  netnsId?: number;
  vxlan?: VxlanInfo;
}

export interface Addr {
  ifname: string;
  family: string;
  local: string;
  prefixlen: number;
  scope: string;
}

export interface Route {
  /** ip's words: "default", "10.244.1.0/24", "fe80::/64", … */
  dst: string;
  family: 'inet' | 'inet6';
  /** ip -json omits the table for main; it is filled in here so every row has one. */
  table: string;
  /** ip -json omits the type for unicast. */
  type?: string;
  gateway?: string;
  dev?: string;
  scope?: string;
  protocol?: string;
  prefsrc?: string;
  metric?: number;
  nexthops?: { gateway?: string; dev?: string; weight?: number }[];
}

export interface Neigh {
  dst: string;
  dev: string;
  lladdr?: string;
  state: string[];
}

export interface Fdb {
  mac: string;
  dev: string;
  master?: string;
  /** As bridge -json prints it: "permanent", "static", or "" for a learned entry. */
  state?: string;
  flags: string[];
  vlan?: number;
  /** A VXLAN entry's remote (bridge fdb append … dst). */
  dst?: string;
}

export interface NsId {
  nsid: number;
  /** Set when the namespace is pinned under /run/netns where this namespace's mounts can see it. */
  name?: string;
}

export interface NetSnapshot {
  target: Target;
  /** Date.now() when the read finished. */
  at: number;
  links: Link[];
  addrs: Addr[];
  routes: Route[];
  neighs: Neigh[];
  fdb: Fdb[];
  nsids: NsId[];
}

/** A stable name for a target: snapshots and monitors are keyed by it. */
export function targetKey(t: Target): string {
  return t.kind === 'sandbox' ? 'sandbox' : t.kind === 'node' ? `node:${t.node}` : `pod:${t.node}:${t.netns}`;
}

const SEP = '--podnet-netview--';
// IPv4 and IPv6 routes are read apart: both print their default route as "default", so only the call tells the family.
const COMMANDS = [
  'ip -json -details link show',
  'ip -json addr show',
  'ip -4 -json route show table all',
  'ip -6 -json route show table all',
  'ip -json neigh show',
  'bridge -json fdb show',
  'ip -json netns list-id',
];
// Three execs at once, each a few of the commands: with 100 pods on a node a read takes ~45 ms this
// way against ~120 ms for all seven in one shell (measured on 2 cores), and ~16 against ~30 with none.
const GROUPS = [
  [0, 6],
  [1, 4],
  [2, 3, 5],
] as const;
const groupScript = (idx: readonly number[]) => idx.map((i) => COMMANDS[i]!).join(`\necho ${SEP}\n`);

type J = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

/** Drops undefined fields, so rows compare and print like ip's own JSON (which omits absent keys). */
function clean<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function parseArray(text: string, what: string): J[] {
  const t = text.trim();
  if (!t) return []; // some iproute2 builds print nothing, not [], for an empty table
  const v = JSON.parse(t) as unknown;
  if (!Array.isArray(v)) throw new Error(`${what}: expected a JSON array`);
  return v as J[];
}

function parseLinks(rows: J[]): Link[] {
  const byName = new Map(rows.map((r) => [str(r.ifname), num(r.ifindex)]));
  return rows.map((r) => {
    const info = (r.linkinfo ?? {}) as J;
    const data = (info.info_data ?? {}) as J;
    const kind = str(info.info_kind);
    // ip prints "link_index" when the linked device is in another namespace, else its name as "link".
    const peerIndex = num(r.link_index) ?? (typeof r.link === 'string' ? byName.get(r.link) : undefined);
    return clean<Link>({
      index: num(r.ifindex)!,
      name: str(r.ifname)!,
      state: str(r.operstate) ?? 'UNKNOWN',
      flags: strs(r.flags),
      mtu: num(r.mtu) ?? 0,
      master: str(r.master),
      mac: str(r.address),
      kind,
      slaveKind: str(info.info_slave_kind),
      peerIndex,
      netnsId: num(r.link_netnsid),
      vxlan:
        kind === 'vxlan'
          ? clean<VxlanInfo>({
              vni: num(data.id)!,
              remote: str(data.remote) ?? str(data.remote6),
              group: str(data.group) ?? str(data.group6),
              local: str(data.local) ?? str(data.local6),
              port: num(data.port),
              dev: str(data.link),
            })
          : undefined,
    });
  });
}

function parseAddrs(rows: J[]): Addr[] {
  return rows.flatMap((r) =>
    ((r.addr_info ?? []) as J[])
      .filter((a) => typeof a.local === 'string')
      .map((a) => ({
        ifname: str(r.ifname)!,
        family: str(a.family)!,
        local: str(a.local)!,
        prefixlen: num(a.prefixlen)!,
        scope: str(a.scope) ?? 'global',
      })),
  );
}

function parseRoutes(rows: J[], family: Route['family']): Route[] {
  return rows.map((r) =>
    clean<Route>({
      dst: str(r.dst)!,
      family,
      table: str(r.table) ?? (typeof r.table === 'number' ? String(r.table) : 'main'),
      type: str(r.type),
      gateway: str(r.gateway),
      dev: str(r.dev),
      scope: str(r.scope),
      protocol: str(r.protocol),
      prefsrc: str(r.prefsrc),
      metric: num(r.metric),
      nexthops: Array.isArray(r.nexthops)
        ? (r.nexthops as J[]).map((h) => clean({ gateway: str(h.gateway), dev: str(h.dev), weight: num(h.weight) }))
        : undefined,
    }),
  );
}

function parseNeighs(rows: J[]): Neigh[] {
  return rows.map((r) =>
    clean<Neigh>({ dst: str(r.dst)!, dev: str(r.dev)!, lladdr: str(r.lladdr), state: strs(r.state) }),
  );
}

function parseFdb(rows: J[]): Fdb[] {
  return rows.map((r) =>
    clean<Fdb>({
      mac: str(r.mac)!,
      dev: str(r.ifname)!,
      master: str(r.master),
      state: str(r.state),
      flags: strs(r.flags),
      vlan: num(r.vlan),
      dst: str(r.dst),
    }),
  );
}

/** Parses the output of the snapshot script (exported for tests and for callers that read elsewhere). */
export function parseSnapshot(target: Target, stdout: string, at = Date.now()): NetSnapshot {
  const parts = stdout.split(`${SEP}\n`);
  if (parts.length !== COMMANDS.length)
    throw new Error(`netview: expected ${COMMANDS.length} sections from the snapshot script, got ${parts.length}`);
  const [links, addrs, r4, r6, neigh, fdb, nsids] = parts.map((p, i) => parseArray(p, COMMANDS[i]!)) as [
    J[],
    J[],
    J[],
    J[],
    J[],
    J[],
    J[],
  ];
  return {
    target,
    at,
    links: parseLinks(links),
    addrs: parseAddrs(addrs),
    routes: [...parseRoutes(r4, 'inet'), ...parseRoutes(r6, 'inet6')],
    neighs: parseNeighs(neigh),
    fdb: parseFdb(fdb),
    nsids: nsids.map((n) => clean<NsId>({ nsid: num(n.nsid)!, name: str(n.name) })),
  };
}

/**
 * Reads a namespace's links, addresses, routes (all tables), neighbours, FDB and nsids. `ip netns list-id`
 * opens every pin under /run/netns to name the nsids, the slowest of the reads with many pods: with
 * nsidNames false it is left out and the nsids are the ones the links refer to, unnamed.
 */
export async function readNamespace(
  world: World,
  target: Target,
  opts: { nsidNames?: boolean } = {},
): Promise<NetSnapshot> {
  const names = opts.nsidNames !== false;
  const sections: string[] = new Array<string>(COMMANDS.length).fill('');
  await Promise.all(
    GROUPS.map(async (g) => {
      const idx = names ? g : g.filter((i) => i !== 6);
      // -e: a failing command fails the read rather than leaving a section silently empty
      const parts = (await world.run(target, ['sh', '-ec', groupScript(idx)])).split(`${SEP}\n`);
      if (parts.length !== idx.length)
        throw new Error(`netview: expected ${idx.length} sections from the snapshot script, got ${parts.length}`);
      idx.forEach((i, j) => (sections[i] = parts[j]!));
    }),
  );
  const snap = parseSnapshot(target, sections.join(`${SEP}\n`));
  if (!names)
    snap.nsids = [...new Set(snap.links.flatMap((l) => (l.netnsId === undefined ? [] : [l.netnsId])))]
      .sort((a, b) => a - b)
      .map((nsid) => ({ nsid }));
  return snap;
}

/** The tables of a snapshot that events change, and the commands that read each. */
export type TableName = 'links' | 'addrs' | 'routes' | 'neighs' | 'fdb';
export const TABLE_NAMES: readonly TableName[] = ['links', 'addrs', 'routes', 'neighs', 'fdb'];
const TABLE_COMMANDS: Record<TableName, readonly number[]> = {
  links: [0],
  addrs: [1],
  routes: [2, 3],
  neighs: [4],
  fdb: [5],
};
export type PartialTables = Partial<Pick<NetSnapshot, TableName>>;

/** Re-reads only the tables an event touched, in one exec: what ip -json shows for them now. */
export async function readTables(world: World, target: Target, tables: ReadonlySet<TableName>): Promise<PartialTables> {
  const idx = TABLE_NAMES.filter((t) => tables.has(t)).flatMap((t) => TABLE_COMMANDS[t]);
  if (!idx.length) return {};
  const parts = (await world.run(target, ['sh', '-ec', groupScript(idx)])).split(`${SEP}\n`);
  if (parts.length !== idx.length)
    throw new Error(`netview: expected ${idx.length} sections from the table read, got ${parts.length}`);
  const raw = new Map(idx.map((i, j) => [i, parseArray(parts[j]!, COMMANDS[i]!)]));
  const out: PartialTables = {};
  if (raw.has(0)) out.links = parseLinks(raw.get(0)!);
  if (raw.has(1)) out.addrs = parseAddrs(raw.get(1)!);
  if (raw.has(2)) out.routes = [...parseRoutes(raw.get(2)!, 'inet'), ...parseRoutes(raw.get(3)!, 'inet6')];
  if (raw.has(4)) out.neighs = parseNeighs(raw.get(4)!);
  if (raw.has(5)) out.fdb = parseFdb(raw.get(5)!);
  return out;
}

/** `ip netns list-id` alone: the namespace's nsids, named where a pin in /run/netns matches. */
export async function readNsids(world: World, target: Target): Promise<NsId[]> {
  return parseArray(await world.run(target, ['ip', '-json', 'netns', 'list-id']), 'ip -json netns list-id').map((n) =>
    clean<NsId>({ nsid: num(n.nsid)!, name: str(n.name) }),
  );
}
