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

// A read is two execs at once, neither a shell: ip's batch mode runs several of its commands in one process
// (a JSON array a line each), and bridge reads the FDB. -details, which the links need, adds to a route what
// plain ip leaves out (its type unicast, protocol boot, scope global, table main): parseRoutes drops those
// again, so a route reads the same either way. Both families' routes come in one dump ("table all" asks
// for every family); the family is told by RTA_PREF, which the kernel puts on every IPv6 route and on no
// IPv4 one (ip prints it as "pref").
type Section = 'links' | 'nsids' | 'addrs' | 'neighs' | 'routes' | 'fdb';
/** One exec: a tool in batch mode, its commands (one per section, in order) on stdin. */
interface Read {
  argv: string[];
  lines: string[];
  sections: Section[];
}
const BATCH_LINE: Record<Section, string> = {
  links: 'link show',
  addrs: 'address show',
  neighs: 'neigh show',
  routes: 'route show table all',
  nsids: 'netns list-id',
  fdb: 'fdb show',
};
const IP_SECTIONS: readonly Section[] = ['links', 'addrs', 'neighs', 'routes', 'nsids'];

/** The execs that read `want`: ip's sections in one (with -details if the links are wanted), bridge's FDB. */
function readsFor(want: ReadonlySet<Section>): Read[] {
  const read = (tool: string, opts: string[], sections: Section[]): Read[] =>
    sections.length
      ? [{ argv: [tool, ...opts, '-batch', '-'], lines: sections.map((s) => BATCH_LINE[s]), sections }]
      : [];
  return [
    ...read(
      'ip',
      want.has('links') ? ['-json', '-details'] : ['-json'],
      IP_SECTIONS.filter((s) => want.has(s)),
    ),
    ...read('bridge', ['-json'], want.has('fdb') ? ['fdb'] : []),
  ];
}

/** Runs the reads at once; each section's rows, as the tool printed them. */
async function runReads(world: World, target: Target, reads: Read[]): Promise<Partial<Record<Section, J[]>>> {
  const out: Partial<Record<Section, J[]>> = {};
  await Promise.all(
    reads.map(async (r) => {
      const stdout = await world.run(target, r.argv, { input: r.lines.join('\n') + '\n' });
      // -json without -pretty prints each command's array on one line
      const arrays = stdout.split('\n').filter((l) => l.trim());
      if (arrays.length !== r.sections.length)
        throw new Error(
          `netview: expected ${r.sections.length} JSON arrays from ${r.argv[0]} -batch (${r.lines.join('; ')}), got ${arrays.length}`,
        );
      r.sections.forEach((s, i) => (out[s] = parseArray(arrays[i]!, `${r.argv.slice(0, -2).join(' ')} ${r.lines[i]}`)));
    }),
  );
  return out;
}

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

function parseRoutes(rows: J[]): Route[] {
  return rows.map((r) =>
    clean<Route>({
      dst: str(r.dst)!,
      family: 'pref' in r ? 'inet6' : 'inet',
      table: str(r.table) ?? (typeof r.table === 'number' ? String(r.table) : 'main'),
      // what plain ip leaves out, left out here too (-details prints it)
      type: r.type === 'unicast' ? undefined : str(r.type),
      gateway: str(r.gateway),
      dev: str(r.dev),
      scope: r.scope === 'global' ? undefined : str(r.scope),
      protocol: r.protocol === 'boot' || r.protocol === 'unspec' ? undefined : str(r.protocol),
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

const ALL: ReadonlySet<Section> = new Set(['links', 'nsids', 'addrs', 'neighs', 'routes', 'fdb']);

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
  const want = new Set([...ALL].filter((s) => names || s !== 'nsids'));
  const rows = await runReads(world, target, readsFor(want));
  const links = parseLinks(rows.links ?? []);
  return {
    target,
    at: Date.now(),
    links,
    addrs: parseAddrs(rows.addrs ?? []),
    routes: parseRoutes(rows.routes ?? []),
    neighs: parseNeighs(rows.neighs ?? []),
    fdb: parseFdb(rows.fdb ?? []),
    nsids: names
      ? (rows.nsids ?? []).map((n) => clean<NsId>({ nsid: num(n.nsid)!, name: str(n.name) }))
      : [...new Set(links.flatMap((l) => (l.netnsId === undefined ? [] : [l.netnsId])))]
          .sort((a, b) => a - b)
          .map((nsid) => ({ nsid })),
  };
}

/** The tables of a snapshot that events change. */
export type TableName = 'links' | 'addrs' | 'routes' | 'neighs' | 'fdb';
export const TABLE_NAMES: readonly TableName[] = ['links', 'addrs', 'routes', 'neighs', 'fdb'];
export type PartialTables = Partial<Pick<NetSnapshot, TableName>>;

/** Re-reads only the tables an event touched (one exec for ip's tables, one for the FDB): what ip -json shows now. */
export async function readTables(world: World, target: Target, tables: ReadonlySet<TableName>): Promise<PartialTables> {
  const want = new Set<Section>(TABLE_NAMES.filter((t) => tables.has(t)));
  if (!want.size) return {};
  const rows = await runReads(world, target, readsFor(want));
  const out: PartialTables = {};
  if (rows.links) out.links = parseLinks(rows.links);
  if (rows.addrs) out.addrs = parseAddrs(rows.addrs);
  if (rows.routes) out.routes = parseRoutes(rows.routes);
  if (rows.neighs) out.neighs = parseNeighs(rows.neighs);
  if (rows.fdb) out.fdb = parseFdb(rows.fdb);
  return out;
}

/** `ip netns list-id` alone: the namespace's nsids, named where a pin in /run/netns matches. */
export async function readNsids(world: World, target: Target): Promise<NsId[]> {
  return parseArray(await world.run(target, ['ip', '-json', 'netns', 'list-id']), 'ip -json netns list-id').map((n) =>
    clean<NsId>({ nsid: num(n.nsid)!, name: str(n.name) }),
  );
}
