// The live network views: pick a namespace (sandbox, node, pod), read its links, addresses, routes,
// neighbours and bridge FDB as `ip -json` gives them, kept live by the engine's diffs. A row that
// appears, changes or goes flashes for a moment. Columns carry ip -json's own field names (data-col).
// React draws the controls, which change when the learner picks; the rows and the tabs' counts, which
// change with every diff, are written by hand (net-table.ts) in the diff's own task.
import { memo, useLayoutEffect, useMemo, useRef, type KeyboardEvent, type ReactNode } from 'react';
import type { Topology } from '../../src-main/api/contract.ts';
import { useAppState, useLab } from '../state/context.ts';
import { NetTableView } from './net-table.ts';
import { commandOf, FAMILY_OF, familyFor, peerNames, shownRows, TABLE_TITLES } from './net-rows.ts';
import {
  netviewOf,
  TABLES,
  useNetview,
  useTopologyBehind,
  type NetviewState,
  type NetviewStore,
  type TableName,
} from './netview-store.ts';
import './views.css';

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

/** What the views' controls draw from: none of it changes with an ordinary diff, so React does not draw for one. */
interface Chrome {
  ns: string;
  table: TableName;
  family: NetviewState['family'];
  routeTables: NetviewState['routeTables'];
  error: string | null;
  goneNote: string | null;
  loaded: boolean;
  /** The family routes show in ip's own default (it follows the namespace's addresses). */
  routeFamily: 'all' | 'inet' | 'inet6';
  /** The table on screen has no rows. */
  empty: boolean;
}

let lastChrome: Chrome | null = null;

/** The controls' state: an object equal to the last is the last (a snapshot must keep its identity). */
function chromeOf(s: NetviewState): Chrome {
  const next: Chrome = {
    ns: s.ns,
    table: s.table,
    family: s.family,
    routeTables: s.routeTables,
    error: s.error,
    goneNote: s.goneNote,
    loaded: s.tables !== null,
    routeFamily: familyFor('routes', 'auto', s.tables),
    empty: shownRows(s.table, s)?.length === 0,
  };
  const last = lastChrome;
  if (last && (Object.keys(next) as (keyof Chrome)[]).every((k) => last[k] === next[k])) return last;
  return (lastChrome = next);
}

/** A tab's count of the rows its table shows, written by hand: it changes with most diffs. */
function TabCount({ nv, table }: { nv: NetviewStore; table: TableName }) {
  const ref = useRef<HTMLSpanElement>(null);
  useLayoutEffect(() => {
    const el = ref.current!;
    // its text's data is set, not the span's children: no node is made or dropped per diff
    const text = el.appendChild(document.createTextNode(''));
    let last: unknown = text; // none drawn yet
    const draw = () => {
      const rows = shownRows(table, nv.get());
      if (rows === last) return; // the same array: a diff of another table, or of none
      last = rows;
      if (el.hidden !== !rows) el.hidden = !rows;
      const n = rows ? String(rows.length) : '';
      if (text.data !== n) text.data = n;
    };
    draw();
    const stop = nv.subscribeFirst(draw);
    return () => {
      stop();
      text.remove();
    };
  }, [nv, table]);
  return <span className="count" ref={ref} />;
}

/** A table's DOM (NetTableView) in its place on the page, for as long as the same table of the same namespace shows. */
function NetTable({
  nv,
  table,
  title,
  peers,
}: {
  nv: NetviewStore;
  table: TableName;
  title: string;
  peers: Map<number, string>;
}) {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<NetTableView | null>(null);
  // made once per table and namespace, with the peers known then; later peers are given to it (this effect
  // runs before the one that makes the table, so that one reads the peers of its own commit)
  const peersNow = useRef(peers);
  useLayoutEffect(() => {
    peersNow.current = peers;
    view.current?.setPeers(peers);
  }, [peers]);
  useLayoutEffect(() => {
    const v = (view.current = new NetTableView(host.current!, nv, table, title, peersNow.current));
    return () => {
      v.dispose();
      view.current = null;
    };
  }, [nv, table, title]);
  return <div ref={host} />;
}

export function LiveViews() {
  const lab = useLab();
  const nv = netviewOf(lab);
  const worldState = useAppState((s) => s.world.state);
  const running = worldState === 'running';
  const { ns, table, goneNote, error, family, routeTables, loaded, routeFamily, empty } = useNetview(nv, chromeOf);
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
  else if (!loaded) body = <p className="muted">Reading {ns || 'the world'}…</p>;
  else {
    body = (
      <div className="nv-table-wrap">
        <NetTable
          key={`${ns}|${table}`}
          nv={nv}
          table={table}
          title={`${TABLE_TITLES[table]} of ${ns}`}
          peers={peers}
        />
        {empty && (
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
            <select
              data-testid="nv-family"
              value={family}
              onChange={(e) => nv.setFamily(e.target.value as NetviewState['family'])}
            >
              <option value="auto">
                {table === 'routes' ? `ip route: ${routeFamily === 'inet6' ? 'IPv6' : 'IPv4'}` : 'IPv4 + IPv6 (as ip)'}
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
            <TabCount nv={nv} table={t} />
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
        {running && loaded && (
          <p className="nv-cmd muted" title="What this table shows, as you would ask the kernel yourself">
            {commandOf(
              table,
              family !== 'auto' ? family : table === 'routes' ? routeFamily : 'all',
              family,
              routeTables,
            )}
          </p>
        )}
      </div>
    </section>
  );
}
