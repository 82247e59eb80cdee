// What changed between two snapshots of one namespace: pure functions over plain rows.
import type { Keyed, KeyedTableDiff } from './keyed.js';
import type { Addr, Fdb, Link, Neigh, NetSnapshot, Route } from './snapshot.js';

export interface RowDiff<T> {
  added: T[];
  removed: T[];
  changed: { before: T; after: T }[];
}

export interface SnapshotDiff {
  links: RowDiff<Link>;
  addrs: RowDiff<Addr>;
  routes: RowDiff<Route>;
  neighs: RowDiff<Neigh>;
  fdb: RowDiff<Fdb>;
}

export const keys = {
  link: (l: Link) => String(l.index),
  addr: (a: Addr) => `${a.ifname}|${a.local}/${a.prefixlen}`,
  // family too: IPv4 and IPv6 both call their default route "default"
  route: (r: Route) => `${r.table}|${r.family}|${r.dst}|${r.dev ?? ''}`,
  neigh: (n: Neigh) => `${n.dev}|${n.dst}`,
  // vlan and dst too: a VXLAN device holds one 00:00:00:00:00:00 entry per remote
  fdb: (f: Fdb) => `${f.dev}|${f.mac}|${f.vlan ?? ''}|${f.dst ?? ''}`,
} as const;

/**
 * JSON with sorted keys, so two rows built in a different key order still compare equal. Kept per row
 * object (rows are never changed in place, a change is a new row): a row that outlives a change is
 * written once, not on every diff of its namespace (a node of 100 pods: hundreds of rows a table).
 */
const canonicalOf = new WeakMap<object, string>();
function canonical(v: unknown): string {
  if (v && typeof v === 'object') {
    const known = canonicalOf.get(v);
    if (known !== undefined) return known;
  }
  const text = JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : x,
  );
  if (v && typeof v === 'object') canonicalOf.set(v, text);
  return text;
}

/** The same row, or one that says the same. */
const sameRow = (a: unknown, b: unknown) => a === b || canonical(a) === canonical(b);

/** Rows by key; a key seen again gets an ordinal suffix, so duplicates are never silently merged. */
function index<T>(rows: T[], key: (r: T) => string): Map<string, T> {
  const m = new Map<string, T>();
  for (const r of rows) {
    const k = key(r);
    let u = k;
    for (let n = 2; m.has(u); n++) u = `${k}#${n}`;
    m.set(u, r);
  }
  return m;
}

export function diffRows<T>(before: T[], after: T[], key: (r: T) => string): RowDiff<T> {
  const a = index(before, key);
  const b = index(after, key);
  const out: RowDiff<T> = { added: [], removed: [], changed: [] };
  for (const [k, r] of b) {
    const old = a.get(k);
    if (old === undefined) out.added.push(r);
    else if (!sameRow(old, r)) out.changed.push({ before: old, after: r });
  }
  for (const [k, r] of a) if (!b.has(k)) out.removed.push(r);
  return out;
}

type Tables = Pick<NetSnapshot, 'links' | 'addrs' | 'routes' | 'neighs' | 'fdb'>;

export function diffSnapshots(before: Tables, after: Tables): SnapshotDiff {
  return {
    links: diffRows(before.links, after.links, keys.link),
    addrs: diffRows(before.addrs, after.addrs, keys.addr),
    routes: diffRows(before.routes, after.routes, keys.route),
    neighs: diffRows(before.neighs, after.neighs, keys.neigh),
    fdb: diffRows(before.fdb, after.fdb, keys.fdb),
  };
}

export function isEmptyDiff(d: SnapshotDiff): boolean {
  return Object.values(d).every((t: RowDiff<unknown>) => !t.added.length && !t.removed.length && !t.changed.length);
}

/** The diff of an empty namespace against a snapshot: everything added (a monitor's first report). */
export function fullDiff(s: Tables): SnapshotDiff {
  return diffSnapshots({ links: [], addrs: [], routes: [], neighs: [], fdb: [] }, s);
}

export type KeyedTables = {
  links: Keyed<Link>[];
  addrs: Keyed<Addr>[];
  routes: Keyed<Route>[];
  neighs: Keyed<Neigh>[];
  fdb: Keyed<Fdb>[];
};
export type KeyedDiff = {
  links: KeyedTableDiff<Link>;
  addrs: KeyedTableDiff<Addr>;
  routes: KeyedTableDiff<Route>;
  neighs: KeyedTableDiff<Neigh>;
  fdb: KeyedTableDiff<Fdb>;
};

const keyedOf = <T>(rows: T[], key: (r: T) => string): Keyed<T>[] =>
  [...index(rows, key)].map(([k, row]) => ({ key: k, row }));

/** Each row with the key its diffs use (duplicates suffixed as in diffRows), for a client that applies diffs blindly. */
export function keyedTables(s: Tables): KeyedTables {
  return {
    links: keyedOf(s.links, keys.link),
    addrs: keyedOf(s.addrs, keys.addr),
    routes: keyedOf(s.routes, keys.route),
    neighs: keyedOf(s.neighs, keys.neigh),
    fdb: keyedOf(s.fdb, keys.fdb),
  };
}

function keyedRowDiff<T>(before: T[], after: T[], key: (r: T) => string): KeyedTableDiff<T> {
  const a = index(before, key);
  const b = index(after, key);
  const out: KeyedTableDiff<T> = { added: [], changed: [], removed: [] };
  for (const [k, row] of b) {
    const old = a.get(k);
    if (old === undefined) out.added.push({ key: k, row });
    else if (!sameRow(old, row)) out.changed.push({ key: k, row });
  }
  for (const k of a.keys()) if (!b.has(k)) out.removed.push(k);
  return out;
}

const NONE = <T>(): KeyedTableDiff<T> => ({ added: [], changed: [], removed: [] });

/**
 * diffSnapshots with each row's key, as the netview.diff event carries it. `only`: the tables that may
 * differ (an event's), so the work per event is that of the tables it touched.
 */
export function keyedDiff(before: Tables, after: Tables, only?: readonly (keyof KeyedDiff)[]): KeyedDiff {
  const on = (t: keyof KeyedDiff) => !only || only.includes(t);
  return {
    links: on('links') ? keyedRowDiff(before.links, after.links, keys.link) : NONE(),
    addrs: on('addrs') ? keyedRowDiff(before.addrs, after.addrs, keys.addr) : NONE(),
    routes: on('routes') ? keyedRowDiff(before.routes, after.routes, keys.route) : NONE(),
    neighs: on('neighs') ? keyedRowDiff(before.neighs, after.neighs, keys.neigh) : NONE(),
    fdb: on('fdb') ? keyedRowDiff(before.fdb, after.fdb, keys.fdb) : NONE(),
  };
}

export function isEmptyKeyedDiff(d: KeyedDiff): boolean {
  return Object.values(d).every(
    (t: KeyedTableDiff<unknown>) => !t.added.length && !t.removed.length && !t.changed.length,
  );
}
