// The live network views: pick a namespace (sandbox, node, pod), read its links, addresses, routes,
// neighbours and bridge FDB as `ip -json` gives them, kept live by the engine's diffs. A row that
// appears, changes or goes flashes for a moment. Columns carry ip -json's own field names (data-col).
import {
  memo,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
  type KeyboardEvent,
  type ReactNode,
  type RefObject,
} from 'react';
import type { NetTables, Topology } from '../../src-main/api/contract.ts';
import { useAppState, useLab } from '../state/context.ts';
import {
  netviewOf,
  TABLES,
  useNetviewTables,
  useTopologyBehind,
  type Family,
  type RouteTables,
  type TableName,
} from './netview-store.ts';
import './views.css';

type Row<T extends TableName> = NetTables[T][number]['row'];
interface Column<T extends TableName> {
  /** ip -json's key for the field (the e2e test compares by it). */
  col: string;
  title: string;
  /** ctx.peer: the link's peer as the topology resolved it (ip's own "if<index>" when it is not). */
  value(r: Row<T>, ctx: { peer(peerIndex?: number): string }): string;
  /** How the value is drawn when not as plain text (its text stays value's). */
  render?(text: string): ReactNode;
}

/** A comma list that may break after its commas only (flags), never inside a word. */
const breakAtCommas = (text: string): ReactNode =>
  text.split(',').map((w, i, all) => (
    <span key={i}>
      {w}
      {i < all.length - 1 ? ',' : ''}
      {i < all.length - 1 ? <wbr /> : null}
    </span>
  ));

const opt = (v: string | number | undefined) => (v === undefined ? '' : String(v));

const COLUMNS: { [T in TableName]: Column<T>[] } = {
  // the columns that teach first (kind, state, flags), so they are on screen at the default width
  links: [
    { col: 'ifindex', title: '#', value: (r) => String(r.index) },
    { col: 'ifname', title: 'name', value: (r) => r.name },
    { col: 'info_kind', title: 'kind', value: (r) => opt(r.kind) },
    { col: 'operstate', title: 'state', value: (r) => r.state },
    { col: 'flags', title: 'flags', value: (r) => r.flags.join(','), render: breakAtCommas },
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
const FAMILY_OF: Partial<Record<TableName, (r: Row<TableName>) => string>> = {
  addrs: (r) => (r as Row<'addrs'>).family,
  routes: (r) => (r as Row<'routes'>).family,
  neighs: (r) => ((r as Row<'neighs'>).dst.includes(':') ? 'inet6' : 'inet'),
};

const TABLE_TITLES: Record<TableName, string> = {
  links: 'Links',
  addrs: 'Addresses',
  routes: 'Routes',
  neighs: 'Neighbours',
  fdb: 'FDB',
};
/** What a table shows, as you would ask the kernel yourself. */
function commandOf(table: TableName, fam: 'all' | 'inet' | 'inet6', family: Family, routeTables: RouteTables): string {
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
function shownFilter(
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

/** Each link's peer in a namespace as "pod/web:eth0" (or the bare name when it is in the same namespace), from the topology. */
function peerNames(topology: Topology | null, ns: string): Map<number, string> {
  const out = new Map<number, string>();
  const here = topology?.namespaces.find((n) => n.id === ns);
  if (!topology || !here) return out;
  const label = new Map(topology.namespaces.map((n) => [n.id, `${n.kind === 'pod' ? 'pod/' : ''}${n.label}`]));
  for (const l of here.links)
    if (l.peer)
      out.set(l.index, l.peer.ns === ns ? l.peer.name : `${label.get(l.peer.ns) ?? l.peer.ns}:${l.peer.name}`);
  return out;
}

/** One row; unchanged rows keep their objects across diffs, so React skips them. */
const TableRow = memo(function TableRow({
  table,
  cols,
  row,
  rowKey,
  cls,
  focused,
  ghost,
  name,
  peer,
  rowIndex,
}: {
  table: TableName;
  cols: Column<TableName>[];
  row: Row<TableName>;
  rowKey: string;
  /** Its place in a long table drawn in part (aria-rowindex). */
  rowIndex: number | undefined;
  cls: string;
  focused: boolean;
  ghost: boolean;
  name?: string | undefined;
  peer: string;
}) {
  const ctx = { peer: (peerIndex?: number) => peer || (peerIndex !== undefined ? `if${peerIndex}` : '') };
  return (
    <tr
      className={`${cls}${focused ? ' nv-focus' : ''}`}
      data-testid={ghost ? undefined : `nv-row-${table}`}
      data-key={rowKey}
      data-name={name}
      aria-rowindex={rowIndex}
      data-gone={ghost || undefined}
      tabIndex={focused ? 0 : -1}
      aria-label={ghost ? `removed: ${rowKey}` : undefined}
    >
      {cols.map((c) => (
        <td key={c.col} data-col={c.col}>
          {c.render ? c.render(c.value(row, ctx)) : c.value(row, ctx)}
        </td>
      ))}
    </tr>
  );
});

/**
 * The namespace picker, drawn again only when the namespaces or the choice change: a select with a value
 * walks its options on every update, and the tables' diffs come many times a second.
 */
const NamespacePicker = memo(function NamespacePicker({
  ns,
  spaces = [],
  disabled,
  onPick,
}: {
  ns: string;
  spaces: Topology['namespaces'] | undefined;
  disabled: boolean;
  onPick: (ns: string) => void;
}) {
  const nodes = spaces.filter((n) => n.kind === 'node');
  return (
    <select id="nv-ns" data-testid="nv-ns" value={ns} disabled={disabled} onChange={(e) => onPick(e.target.value)}>
      {spaces
        .filter((n) => n.kind === 'sandbox')
        .map((n) => (
          <option key={n.id} value={n.id}>
            sandbox
          </option>
        ))}
      {nodes.length > 0 && (
        <optgroup label="Nodes">
          {nodes.map((n) => (
            <option key={n.id} value={n.id}>
              {n.label}
            </option>
          ))}
        </optgroup>
      )}
      {nodes.map((node) => {
        const pods = spaces.filter((p) => p.kind === 'pod' && p.node === node.node);
        return pods.length ? (
          <optgroup key={node.id} label={`Pods on ${node.label}`}>
            {pods.map((p) => (
              <option key={p.id} value={p.id}>
                {p.pod ? p.label : `netns ${p.label}`}
              </option>
            ))}
          </optgroup>
        ) : null;
      })}
    </select>
  );
});

type ShownRow = { key: string; row: Row<TableName>; ghost: boolean };

/** Above this many rows a table draws only the rows near the view: a diff then costs the rows on screen, not the table. */
const WINDOW_FROM = 60;
/** Drawn beyond the view on either side, so a scroll shows rows already laid out. */
const OVERSCAN_PX = 600;
/** The window moves in steps of this much scrolling, not on every scroll frame. */
const SCROLL_STEP_PX = 200;
/** A row's height before any is measured (one line of the table's font). */
const ROW_GUESS_PX = 19;

/** The nearest ancestor that scrolls up and down (the table's own wrap scrolls sideways only: its overflow-y computes to auto). */
function scrollerOf(el: HTMLElement): HTMLElement | null {
  for (let p = el.parentElement; p; p = p.parentElement) {
    if (p.classList.contains('nv-table-wrap')) continue;
    const o = getComputedStyle(p).overflowY;
    if (o === 'auto' || o === 'scroll') return p;
  }
  return null;
}

/**
 * Which rows of a long table to draw: those within a screenful or so of the view, with the rest stood in
 * for by two spacers of their (measured, else estimated) height. Short tables are drawn whole.
 */
function useRowWindow(bodyRef: RefObject<HTMLTableSectionElement | null>, keys: string[]) {
  const windowed = keys.length > WINDOW_FROM;
  const heights = useRef(new Map<string, number>());
  const scroller = useRef<HTMLElement | null>(null);
  // the view, as the scroller's top (in steps) and height, and the table body's top inside it
  const [view, setView] = useState({ step: 0, height: 800, bodyTop: 0 });
  const [guess, setGuess] = useState(ROW_GUESS_PX);

  useLayoutEffect(() => {
    const body = bodyRef.current;
    if (!windowed || !body) return;
    const el = (scroller.current = scrollerOf(body));
    if (!el) return;
    const read = () =>
      setView((v) => {
        const next = {
          step: Math.floor(el.scrollTop / SCROLL_STEP_PX),
          height: el.clientHeight,
          bodyTop: body.getBoundingClientRect().top - el.getBoundingClientRect().top + el.scrollTop,
        };
        return next.step === v.step && next.height === v.height && Math.abs(next.bodyTop - v.bodyTop) < 1 ? v : next;
      });
    let frame = 0;
    const onScroll = () => {
      if (!frame) frame = requestAnimationFrame(() => ((frame = 0), read()));
    };
    read();
    el.addEventListener('scroll', onScroll, { passive: true });
    const ro = new ResizeObserver(onScroll);
    ro.observe(el);
    return () => {
      cancelAnimationFrame(frame);
      el.removeEventListener('scroll', onScroll);
      ro.disconnect();
    };
  }, [bodyRef, windowed]);

  const heightOf = (k: string) => heights.current.get(k) ?? guess;
  const offsets: number[] = [0];
  if (windowed) for (const k of keys) offsets.push(offsets[offsets.length - 1]! + heightOf(k));
  const total = offsets[offsets.length - 1]!;
  const top = view.step * SCROLL_STEP_PX - view.bodyTop - OVERSCAN_PX;
  const bottom = view.step * SCROLL_STEP_PX - view.bodyTop + view.height + SCROLL_STEP_PX + OVERSCAN_PX;
  let from = 0;
  let to = keys.length;
  if (windowed) {
    while (from < keys.length && offsets[from + 1]! < top) from++;
    to = from;
    while (to < keys.length && offsets[to]! < bottom) to++;
  }

  // the rows drawn are measured after each draw; the guess for the rest follows them
  useLayoutEffect(() => {
    const body = bodyRef.current;
    if (!windowed || !body) return;
    for (const tr of body.querySelectorAll<HTMLElement>('tr[data-key]'))
      heights.current.set(tr.dataset.key!, tr.offsetHeight);
    // rows that went are forgotten now and then, not on every draw
    if (heights.current.size > 2 * keys.length + WINDOW_FROM) {
      const live = new Set(keys);
      for (const k of heights.current.keys()) if (!live.has(k)) heights.current.delete(k);
    }
    const seen = [...heights.current.values()];
    const mean = seen.reduce((a, b) => a + b, 0) / Math.max(1, seen.length);
    if (seen.length && Math.abs(mean - guess) > guess * 0.15) setGuess(mean);
  }, [bodyRef, windowed, guess, from, to, keys]);

  /** Brings a row not drawn into the view (then it is drawn, and can take focus). */
  const reveal = (i: number) => {
    const el = scroller.current;
    if (el && windowed) el.scrollTop = view.bodyTop + offsets[i]! - el.clientHeight / 2;
  };
  return {
    windowed,
    from,
    to,
    above: windowed ? offsets[from]! : 0,
    below: windowed ? total - offsets[to]! : 0,
    reveal,
  };
}

/** One table of a namespace; a long one draws only the rows near the view (useRowWindow). */
function NetTable({
  table,
  title,
  cols,
  rows,
  marks,
  focus,
  peers,
}: {
  table: TableName;
  title: string;
  cols: Column<TableName>[];
  rows: ShownRow[];
  marks: Record<string, { mark: string; gen: number }>;
  focus: { table: TableName; key: string } | null;
  peers: Map<number, string>;
}) {
  const bodyRef = useRef<HTMLTableSectionElement>(null);
  const keys = rows.map((r) => r.key);
  const win = useRowWindow(bodyRef, keys);
  const focusKey = focus?.table === table ? focus.key : null;
  const focusAt = focusKey === null ? -1 : rows.findIndex((r) => r.key === focusKey && !r.ghost);

  // a row asked for from the topology: scrolled to once it is drawn (a long table draws it once it is near the view)
  const shownFor = useRef<typeof focus>(null);
  useLayoutEffect(() => {
    if (focusKey === null || shownFor.current === focus) return;
    const el = bodyRef.current?.querySelector<HTMLElement>(`[data-key="${CSS.escape(focusKey)}"]`);
    if (!el) {
      if (focusAt >= 0) win.reveal(focusAt);
      return;
    }
    shownFor.current = focus;
    el.scrollIntoView({ block: 'nearest' });
    el.focus({ preventScroll: true });
  });

  const spacer = (h: number, where: string) =>
    h > 0 && (
      <tr className="nv-spacer" aria-hidden="true" data-spacer={where}>
        <td colSpan={cols.length} style={{ height: h }} />
      </tr>
    );
  return (
    <table
      className="nv-table"
      data-testid={`nv-table-${table}`}
      aria-label={title}
      aria-rowcount={win.windowed ? rows.length + 1 : undefined}
    >
      <thead>
        <tr>
          {cols.map((c) => (
            <th key={c.col} scope="col" title={`ip -json: ${c.col}`}>
              {c.title}
            </th>
          ))}
        </tr>
      </thead>
      <tbody ref={bodyRef}>
        {spacer(win.above, 'above')}
        {rows.slice(win.from, win.to).map((r, j) => {
          const m = marks[`${table}|${r.key}`];
          const name = table === 'links' ? (r.row as Row<'links'>).name : undefined;
          const learned = table === 'fdb' && isLearned(r.row as Row<'fdb'>);
          return (
            <TableRow
              key={`${r.key}@${m?.gen ?? 0}${r.ghost ? '-gone' : ''}`}
              table={table}
              cols={cols}
              row={r.row}
              rowKey={r.key}
              rowIndex={win.windowed ? win.from + j + 2 : undefined}
              cls={`${r.ghost ? 'nv-removed' : m && m.mark !== 'removed' ? `nv-${m.mark}` : ''}${learned ? ' nv-learned' : ''}`}
              focused={focusKey === r.key && !r.ghost}
              ghost={r.ghost}
              name={name}
              peer={table === 'links' ? (peers.get((r.row as Row<'links'>).index) ?? '') : ''}
            />
          );
        })}
        {spacer(win.below, 'below')}
      </tbody>
    </table>
  );
}

export function LiveViews() {
  const lab = useLab();
  const nv = netviewOf(lab);
  const worldState = useAppState((s) => s.world.state);
  const running = worldState === 'running';
  // one subscription: a diff changes the tables and their marks together, and each hook is work per diff
  const { ns, table, tables, marks, ghosts, focus, goneNote, error, family, routeTables } = useNetviewTables(nv);
  // a topology update draws the tables once, at a lower priority than a table's diff (not twice, one of them at once)
  const topology = useTopologyBehind(nv);
  const peers = useMemo(() => peerNames(topology, ns), [topology, ns]);

  const onTabKey = (e: KeyboardEvent) => {
    const i = TABLES.indexOf(table);
    const go = (j: number) => {
      const t = TABLES[(j + TABLES.length) % TABLES.length]!;
      nv.setTable(t);
      document.getElementById(`nv-tab-${t}`)?.focus();
    };
    if (e.key === 'ArrowRight') go(i + 1);
    else if (e.key === 'ArrowLeft') go(i - 1);
    else if (e.key === 'Home') go(0);
    else if (e.key === 'End') go(TABLES.length - 1);
    else return;
    e.preventDefault();
  };

  let body: ReactNode;
  if (!running)
    body = (
      <p className="muted">
        {worldState === 'starting'
          ? "The world is starting: its namespaces' links, addresses and routes show here once it runs."
          : "Start a world to watch its namespaces' links, addresses and routes change live."}
      </p>
    );
  else if (error)
    body = (
      <p className="nv-error" role="alert">
        {error}
      </p>
    );
  else if (!tables) body = <p className="muted">Reading {ns || 'the world'}…</p>;
  else {
    const cols = COLUMNS[table] as Column<TableName>[];
    const shown = shownFilter(table, family, routeTables, tables);
    const rows = (tables[table] as { key: string; row: Row<TableName> }[]).filter(shown);
    const gone = ((ghosts[table] ?? []) as { key: string; row: Row<TableName> }[]).filter(shown);
    body = (
      <div className="nv-table-wrap">
        <NetTable
          key={`${ns}|${table}`}
          table={table}
          title={`${TABLE_TITLES[table]} of ${ns}`}
          cols={cols}
          rows={[...rows.map((r) => ({ ...r, ghost: false })), ...gone.map((r) => ({ ...r, ghost: true }))]}
          marks={marks}
          focus={focus}
          peers={peers}
        />
        {rows.length === 0 && (
          <p className="muted nv-empty">
            No {TABLE_TITLES[table].toLowerCase()} in {ns}.
          </p>
        )}
      </div>
    );
  }

  return (
    <section className="section views nv" aria-labelledby="views-heading">
      <h2 id="views-heading">Live network views</h2>
      <div className="nv-controls">
        <label className="nv-picker">
          <span>Namespace</span>
          <NamespacePicker ns={ns} spaces={topology?.namespaces} disabled={!running || !topology} onPick={nv.pick} />
        </label>
        {FAMILY_OF[table] && (
          <label
            className="nv-family"
            title="Like ip -4 / ip -6: which address family the addresses, routes and neighbours show"
          >
            <span className="visually-hidden">Address family</span>
            <select data-testid="nv-family" value={family} onChange={(e) => nv.setFamily(e.target.value as Family)}>
              <option value="auto">
                {table === 'routes'
                  ? `ip route: ${familyFor(table, 'auto', tables) === 'inet6' ? 'IPv6' : 'IPv4'}`
                  : 'IPv4 + IPv6 (as ip)'}
              </option>
              <option value="all">IPv4 + IPv6</option>
              <option value="inet">IPv4</option>
              <option value="inet6">IPv6</option>
            </select>
          </label>
        )}
        {table === 'routes' && (
          <button
            className="button small ghost nv-route-tables"
            data-testid="nv-route-tables"
            aria-pressed={routeTables === 'all'}
            title="ip route shows the main table; the kernel also has local (and any a lab adds)"
            onClick={() => nv.setRouteTables(routeTables === 'all' ? 'main' : 'all')}
          >
            All tables
          </button>
        )}
      </div>
      <div className="nv-tabs" role="tablist" aria-label="Tables">
        {TABLES.map((t) => (
          <button
            key={t}
            id={`nv-tab-${t}`}
            role="tab"
            className={`nv-tab${t === table ? ' active' : ''}`}
            aria-selected={t === table}
            tabIndex={t === table ? 0 : -1}
            data-testid={`nv-tab-${t}`}
            onClick={() => nv.setTable(t)}
            onKeyDown={onTabKey}
          >
            {TABLE_TITLES[t]}
            {tables ? (
              <span className="count">
                {(tables[t] as { row: Row<TableName> }[]).filter(shownFilter(t, family, routeTables, tables)).length}
              </span>
            ) : null}
          </button>
        ))}
      </div>
      {goneNote && (
        <p className="nv-note" role="status">
          {goneNote}
        </p>
      )}
      <div role="tabpanel" aria-labelledby={`nv-tab-${table}`} className="nv-panel">
        {body}
        {running && tables && (
          <p className="nv-cmd muted" title="What this table shows, as you would ask the kernel yourself">
            {commandOf(table, familyFor(table, family, tables), family, routeTables)}
          </p>
        )}
      </div>
    </section>
  );
}
