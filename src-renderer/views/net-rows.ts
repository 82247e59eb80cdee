// What a live table shows, as data: its columns (ip -json's own keys), which rows a family and the route
// tables let through, and each link's peer named from the topology. No DOM and no React: the table body
// (net-table.ts), the tab counts and the controls all read it.
import type { NetTables, Topology } from '../../src-main/api/contract.ts';
import type { Keyed } from '../../src-main/netview/keyed.ts';
import type { Family, NetviewState, RouteTables, TableName } from './netview-store.ts';

export type Row<T extends TableName> = NetTables[T][number]['row'];

export interface Column<T extends TableName> {
  /** ip -json's key for the field (the e2e test compares by it). */
  col: string;
  title: string;
  /** ctx.peer: the link's peer as the topology resolved it (ip's own "if<index>" when it is not). */
  value(r: Row<T>, ctx: { peer(peerIndex?: number): string }): string;
  /** A comma list that may break after its commas only (flags), never inside a word. */
  breakAtCommas?: true;
}

const opt = (v: string | number | undefined) => (v === undefined ? '' : String(v));

export const COLUMNS: { [T in TableName]: Column<T>[] } = {
  // the columns that teach first (kind, state, flags), so they are on screen at the default width
  links: [
    { col: 'ifindex', title: '#', value: (r) => String(r.index) },
    { col: 'ifname', title: 'name', value: (r) => r.name },
    { col: 'info_kind', title: 'kind', value: (r) => opt(r.kind) },
    { col: 'operstate', title: 'state', value: (r) => r.state },
    { col: 'flags', title: 'flags', value: (r) => r.flags.join(','), breakAtCommas: true },
    { col: 'master', title: 'master', value: (r) => opt(r.master) },
    {
      col: 'peer',
      title: 'peer',
      value: (r, c) => (r.kind === 'veth' || r.peerIndex !== undefined ? c.peer(r.peerIndex) : ''),
    },
    { col: 'mtu', title: 'mtu', value: (r) => String(r.mtu) },
    { col: 'address', title: 'mac', value: (r) => opt(r.mac) },
  ],
  addrs: [
    { col: 'ifname', title: 'dev', value: (r) => r.ifname },
    { col: 'family', title: 'family', value: (r) => r.family },
    { col: 'local', title: 'address', value: (r) => r.local },
    { col: 'prefixlen', title: 'len', value: (r) => String(r.prefixlen) },
    { col: 'scope', title: 'scope', value: (r) => r.scope },
  ],
  routes: [
    { col: 'dst', title: 'dst', value: (r) => r.dst },
    {
      col: 'gateway',
      title: 'via',
      value: (r) =>
        opt(
          r.gateway ??
            r.nexthops
              ?.map((h) => h.gateway)
              .filter(Boolean)
              .join(' '),
        ),
    },
    {
      col: 'dev',
      title: 'dev',
      value: (r) =>
        opt(
          r.dev ??
            r.nexthops
              ?.map((h) => h.dev)
              .filter(Boolean)
              .join(' '),
        ),
    },
    { col: 'table', title: 'table', value: (r) => r.table },
    { col: 'protocol', title: 'proto', value: (r) => opt(r.protocol) },
    { col: 'scope', title: 'scope', value: (r) => opt(r.scope) },
    { col: 'prefsrc', title: 'src', value: (r) => opt(r.prefsrc) },
    { col: 'type', title: 'type', value: (r) => opt(r.type) },
    { col: 'metric', title: 'metric', value: (r) => opt(r.metric) },
  ],
  neighs: [
    { col: 'dst', title: 'dst', value: (r) => r.dst },
    { col: 'dev', title: 'dev', value: (r) => r.dev },
    { col: 'lladdr', title: 'lladdr', value: (r) => opt(r.lladdr) },
    { col: 'state', title: 'state', value: (r) => r.state.join(',') },
  ],
  fdb: [
    { col: 'mac', title: 'mac', value: (r) => r.mac },
    { col: 'ifname', title: 'dev', value: (r) => r.dev },
    { col: 'master', title: 'master', value: (r) => opt(r.master) },
    // bridge -json prints no state for an entry the bridge learned from traffic: say so
    { col: 'state', title: 'state', value: (r) => (isLearned(r) ? 'learned' : opt(r.state)) },
    { col: 'vlan', title: 'vlan', value: (r) => opt(r.vlan) },
    { col: 'dst', title: 'dst', value: (r) => opt(r.dst) },
    { col: 'flags', title: 'flags', value: (r) => r.flags.join(',') },
  ],
};

/** An FDB entry the bridge learned (no state of its own), not one configured or the device's own. */
export const isLearned = (r: Row<'fdb'>) => !r.state;

/** The family of a row, for the tables where ip's -4 / -6 apply. */
export const FAMILY_OF: Partial<Record<TableName, (r: Row<TableName>) => string>> = {
  addrs: (r) => (r as Row<'addrs'>).family,
  routes: (r) => (r as Row<'routes'>).family,
  neighs: (r) => ((r as Row<'neighs'>).dst.includes(':') ? 'inet6' : 'inet'),
};

export const TABLE_TITLES: Record<TableName, string> = {
  links: 'Links',
  addrs: 'Addresses',
  routes: 'Routes',
  neighs: 'Neighbours',
  fdb: 'FDB',
};

/** What a table shows, as you would ask the kernel yourself. */
export function commandOf(
  table: TableName,
  fam: 'all' | 'inet' | 'inet6',
  family: Family,
  routeTables: RouteTables,
): string {
  const flag = fam === 'inet6' ? '-6 ' : fam === 'inet' && family !== 'auto' ? '-4 ' : '';
  const both = fam === 'all' && FAMILY_OF[table] ? ' (-4 and -6)' : '';
  switch (table) {
    case 'links':
      return 'ip -json -details link show';
    case 'addrs':
      return `ip ${flag}-json addr show${both}`;
    case 'routes':
      return `ip ${flag}-json route show${routeTables === 'all' ? ' table all' : ''}${both}`;
    case 'neighs':
      return `ip ${flag}-json neigh show${both}`;
    case 'fdb':
      return 'bridge -json fdb show';
  }
}

/** The family a table shows: the chosen one, or ip's own default (routes: the namespace's family). */
export function familyFor(table: TableName, family: Family, tables: NetTables | null): 'all' | 'inet' | 'inet6' {
  if (family !== 'auto') return family;
  if (table !== 'routes') return 'all';
  const global = (f: string) => (tables?.addrs ?? []).some((a) => a.row.family === f && a.row.scope === 'global');
  return !global('inet') && global('inet6') ? 'inet6' : 'inet';
}

/** The rows of a table on screen: its family, and for routes the main table unless all tables are asked for. */
export function shownFilter(
  table: TableName,
  family: Family,
  routeTables: RouteTables,
  tables: NetTables | null,
): (r: { row: Row<TableName> }) => boolean {
  const fam = familyFor(table, family, tables);
  const byFam = FAMILY_OF[table];
  return (r) =>
    (fam === 'all' || !byFam || byFam(r.row) === fam) &&
    (table !== 'routes' || routeTables === 'all' || (r.row as Row<'routes'>).table === 'main');
}

/** A table's shown rows by its rows' array, with what else they were filtered by. */
const shownCache = new WeakMap<
  object,
  { family: Family; routeTables: RouteTables; addrs: unknown; rows: Keyed<Row<TableName>>[] }
>();

/**
 * The live rows a table shows (shownFilter), or null before the tables are read. Made once for each change of
 * what they depend on, and the same array until then: the table, its tab's count and the controls all read it.
 */
export function shownRows(
  table: TableName,
  s: Pick<NetviewState, 'tables' | 'family' | 'routeTables'>,
): Keyed<Row<TableName>>[] | null {
  if (!s.tables) return null;
  const all = s.tables[table] as Keyed<Row<TableName>>[];
  // routes in ip's own family follow the namespace's addresses
  const addrs = table === 'routes' ? s.tables.addrs : null;
  const hit = shownCache.get(all);
  if (hit && hit.family === s.family && hit.routeTables === s.routeTables && hit.addrs === addrs) return hit.rows;
  const kept = all.filter(shownFilter(table, s.family, s.routeTables, s.tables));
  const rows = kept.length === all.length ? all : kept;
  shownCache.set(all, { family: s.family, routeTables: s.routeTables, addrs, rows });
  return rows;
}

/** Each link's peer in a namespace as "pod/web:eth0" (or the bare name when it is in the same namespace), from the topology. */
export function peerNames(topology: Topology | null, ns: string): Map<number, string> {
  const out = new Map<number, string>();
  const here = topology?.namespaces.find((n) => n.id === ns);
  if (!topology || !here) return out;
  const label = new Map(topology.namespaces.map((n) => [n.id, `${n.kind === 'pod' ? 'pod/' : ''}${n.label}`]));
  for (const l of here.links)
    if (l.peer)
      out.set(l.index, l.peer.ns === ns ? l.peer.name : `${label.get(l.peer.ns) ?? l.peer.ns}:${l.peer.name}`);
  return out;
}
