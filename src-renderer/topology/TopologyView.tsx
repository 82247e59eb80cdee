// The world's topology as one SVG, live: the sandbox's underlay, nodes with their bridges, pods with their
// IPs, veth pairs as edges across namespaces, VXLAN tunnels between nodes. Click (or Enter on) an
// interface for its details and its row in the tables; export the drawing as SVG or PNG for slides.
// "Follow a packet" sends one through the world and draws the path it took over the drawing (src-renderer/path).
import { memo, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { NetTables, Topology, TopoLink } from '../../src-main/api/contract.ts';
import { useAppState, useLab } from '../state/context.ts';
import { netviewOf, useNetview } from '../views/netview-store.ts';
import { FollowPanel } from '../path/FollowPanel.tsx';
import { layoutPath } from '../path/path-layout.ts';
import { PathLines, PathMarkers } from '../path/PathOverlay.tsx';
import { pathOf, usePath } from '../path/path-store.ts';
import { download, pngBlob, svgText } from './export.ts';
import { layoutTopology, PodSlots, type ApiPods, type Box, type Port } from './layout.ts';
import './topology.css';

/** "1 node", "2 nodes". */
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** What the world holds: a namespace made by hand (no pod claims it) is a netns, not a pod. */
export function countsOf(t: Topology): string {
  const nodes = t.namespaces.filter((n) => n.kind === 'node').length;
  const pods = t.namespaces.filter((n) => n.kind === 'pod' && n.pod).length;
  const netns = t.namespaces.filter((n) => n.kind === 'pod' && !n.pod).length;
  // a tunnel between two nodes is two devices, each naming the other's address: one tunnel
  const pairs = new Set(
    t.tunnels.map((x) =>
      x.to
        ? [`${x.from.ns}|${x.from.name}`, `${x.to.ns}|${x.to.name}`].sort().join('~')
        : `${x.from.ns}|${x.from.name}`,
    ),
  );
  const tunnels = pairs.size;
  const veths = t.namespaces.reduce((k, n) => k + n.links.filter((l) => l.kind === 'veth').length, 0) / 2;
  return [
    plural(nodes, 'node'),
    plural(pods, 'pod'),
    netns ? plural(netns, 'other netns', 'other netns') : '',
    plural(Math.floor(veths), 'veth pair'),
    tunnels ? plural(tunnels, 'VXLAN tunnel') : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

/** The smallest text in the drawing (topology.css): fitting never shrinks it below 11 px in a small world. */
const SMALLEST_TEXT_PX = 11;
/** Up to this many nodes the drawing is kept readable (scrolled if need be) rather than shrunk to fit. */
const READABLE_NODES = 3;

const ZOOMS = [0.25, 0.33, 0.5, 0.67, 0.8, 1, 1.25, 1.5, 2];
/** Below this zoom an interface's name is a few pixels high: not drawn (a big world redraws faster); its tooltip and details still name it. */
const LABELS_FROM = 0.4;

function Details({
  port,
  onShow,
  onClose,
  nsLabel,
}: {
  port: Port;
  onShow: () => void;
  onClose: () => void;
  nsLabel: (id: string) => string;
}) {
  const l: TopoLink = port.link;
  const rows: [string, string | undefined][] = [
    ['namespace', nsLabel(port.ns)],
    ['index', String(l.index)],
    ['kind', l.kind ?? 'device'],
    ['state', l.state],
    ['mtu', String(l.mtu)],
    ['mac', l.mac],
    ['master', l.master],
    ['addresses', l.addrs.join(', ') || undefined],
    ['peer', l.peer ? `${nsLabel(l.peer.ns)}: ${l.peer.name} (#${l.peer.index})` : undefined],
    [
      'vxlan',
      l.vxlan
        ? `VNI ${l.vxlan.vni}${l.vxlan.remote ? `, remote ${l.vxlan.remote}` : ''}${l.vxlan.local ? `, local ${l.vxlan.local}` : ''}${l.vxlan.port ? `, port ${l.vxlan.port}` : ''}${l.vxlan.dev ? `, dev ${l.vxlan.dev}` : ''}`
        : undefined,
    ],
  ];
  return (
    <aside
      className="topo-details"
      data-testid="topo-details"
      aria-label={`Interface ${port.name}`}
      onKeyDown={(e) => e.key === 'Escape' && onClose()}
    >
      <header>
        <strong className="mono">{port.name}</strong>
        <button className="icon-button" aria-label="Close the details" onClick={onClose}>
          ×
        </button>
      </header>
      <dl>
        {rows
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd className="mono" data-testid={`topo-detail-${k}`}>
                {v}
              </dd>
            </div>
          ))}
      </dl>
      <button className="button small" data-testid="topo-show-row" onClick={onShow}>
        Show its row in the tables
      </button>
    </aside>
  );
}

type RouteRow = NetTables['routes'][number]['row'];

/** A route as `ip route` prints it. */
function routeText(r: RouteRow): string {
  const via =
    r.gateway ??
    r.nexthops
      ?.map((h) => h.gateway)
      .filter(Boolean)
      .join(' ');
  const dev =
    r.dev ??
    r.nexthops
      ?.map((h) => h.dev)
      .filter(Boolean)
      .join(' ');
  return [
    r.dst,
    via && `via ${via}`,
    dev && `dev ${dev}`,
    r.protocol && r.protocol !== 'boot' && `proto ${r.protocol}`,
    r.scope && r.scope !== 'global' && `scope ${r.scope}`,
    r.prefsrc && `src ${r.prefsrc}`,
    r.metric !== undefined && `metric ${r.metric}`,
  ]
    .filter(Boolean)
    .join(' ');
}

/** On demand: each node's routes as `ip route` shows them, and each VXLAN tunnel's two ends. */
function RoutesPanel({
  topology,
  nsLabel,
  onClose,
}: {
  topology: Topology;
  nsLabel: (id: string) => string;
  onClose: () => void;
}) {
  const lab = useLab();
  const [routes, setRoutes] = useState<Record<string, RouteRow[]>>({});
  const nodes = topology.namespaces.filter((n) => n.kind === 'node' || n.kind === 'sandbox');
  const ids = nodes.map((n) => n.id).join(' ');
  // read again whenever the topology changes (a route added comes with one)
  useEffect(() => {
    let live = true;
    void Promise.all(
      ids.split(' ').map(async (ns) => {
        const snap = await lab.client.call('netview.snapshot', { ns }).catch(() => null);
        return [
          ns,
          (snap?.tables.routes ?? []).map((r) => r.row).filter((r) => r.table === 'main' && r.family === 'inet'),
        ] as const;
      }),
    ).then((rows) => live && setRoutes(Object.fromEntries(rows)));
    return () => {
      live = false;
    };
  }, [lab, ids, topology.seq]);
  const link = (ns: string, name: string) =>
    topology.namespaces.find((n) => n.id === ns)?.links.find((l) => l.name === name);
  return (
    <aside className="topo-details topo-routes" data-testid="topo-routes" aria-label="Routes and tunnels">
      <header>
        <strong>Routes and tunnels</strong>
        <button className="icon-button" aria-label="Close routes and tunnels" onClick={onClose}>
          ×
        </button>
      </header>
      {nodes.map((n) => (
        <section key={n.id} data-testid={`topo-routes-${n.id}`}>
          <h3>
            {n.label} <span className="muted">ip route</span>
          </h3>
          {routes[n.id]?.length === 0 ? (
            <p className="muted">No IPv4 routes in the main table.</p>
          ) : (
            <ul className="mono">
              {(routes[n.id] ?? []).map((r, i) => (
                <li key={i}>{routeText(r)}</li>
              ))}
            </ul>
          )}
        </section>
      ))}
      <section data-testid="topo-tunnels">
        <h3>VXLAN tunnels</h3>
        {topology.tunnels.length === 0 ? (
          <p className="muted">None.</p>
        ) : (
          <ul className="mono">
            {topology.tunnels.map((t) => {
              const v = link(t.from.ns, t.from.name)?.vxlan;
              return (
                <li key={`${t.from.ns}|${t.from.name}`}>
                  {nsLabel(t.from.ns)} {t.from.name}
                  {v?.local ? ` (${v.local})` : ''} → {t.remote}
                  {t.to ? ` = ${nsLabel(t.to.ns)} ${t.to.name}` : ' (no device there)'} · VNI {t.vni}
                  {v?.port ? ` · UDP ${v.port}` : ''}
                  {v?.dev ? ` · dev ${v.dev}` : ''}
                </li>
              );
            })}
          </ul>
        )}
      </section>
    </aside>
  );
}

// Drawn pieces take only primitives, so an update that moves nothing redraws nothing (200 pods: ~3000 elements).
const BoxView = memo(function BoxView({ id, kind, label, sub, x, y, w, h, unclaimed, phase }: Box) {
  // a pod of the API: Pending (no sandbox yet) dashed, Terminating marked; its phase after its IP
  const state = phase ? ` topo-phase-${phase.toLowerCase()}` : '';
  return (
    <g
      className={`topo-box topo-${kind}${unclaimed ? ' topo-unclaimed' : ''}${state}`}
      data-testid={`topo-box-${id}`}
      data-phase={phase}
    >
      <rect x={x} y={y} width={w} height={h} rx={kind === 'pod' ? 6 : 10} />
      {kind === 'pod' ? (
        <>
          <text className="topo-title" x={x + 10} y={y + 36}>
            {unclaimed ? `netns ${label.slice(0, 16)}` : `pod ${label}`}
          </text>
          <text className="topo-ip" x={x + 10} y={y + 52} data-testid={`topo-ip-${id}`}>
            {[sub, phase].filter(Boolean).join(' · ')}
          </text>
        </>
      ) : (
        <>
          <text className="topo-title" x={x + (kind === 'node' ? 96 : 12)} y={y + (kind === 'node' ? 22 : 20)}>
            {label}
          </text>
          <text className="topo-sub" x={x + (kind === 'node' ? 96 : 12)} y={y + (kind === 'node' ? 36 : 34)}>
            {sub}
          </text>
        </>
      )}
    </g>
  );
});

const EdgeView = memo(function EdgeView({
  kind,
  d,
  ends,
  lit,
  onPath,
}: {
  kind: string;
  d: string;
  ends: string;
  lit: boolean;
  /** A tunnel a followed packet crossed. */
  onPath: boolean;
}) {
  return (
    <g data-testid={`topo-edge-${kind}`} data-ends={ends} data-on-path={onPath || undefined}>
      <path className={`topo-edge topo-edge-${kind}${lit ? ' lit' : ''}${onPath ? ' on-path' : ''}`} d={d} />
    </g>
  );
});

const EdgeLabel = memo(function EdgeLabel({ x, y, text }: { x: number; y: number; text: string }) {
  return (
    <text className="topo-edge-label" x={x} y={y}>
      {text}
    </text>
  );
});

interface PortProps {
  id: string;
  ns: string;
  name: string;
  x: number;
  y: number;
  labelAt: Port['labelAt'];
  up: boolean;
  selected: boolean;
  lit: boolean;
  aria: string;
  /** Drawn only when it can be read (see LABELS_FROM). */
  label: boolean;
  /** A followed packet passed it: its label moves clear of the path's markers. */
  onPath: boolean;
  onSelect: (ns: string, name: string) => void;
}

const PortView = memo(function PortView({
  id,
  ns,
  name,
  x,
  y,
  labelAt,
  up,
  selected,
  lit,
  aria,
  onSelect,
  label,
  onPath,
}: PortProps) {
  const away = onPath ? 9 : 0;
  const lx = labelAt === 'right' ? x + 9 + away : x;
  const ly = labelAt === 'below' ? y + 18 + away : labelAt === 'above' ? y - 9 - away : y + 4;
  return (
    <g
      className={`topo-port${up ? '' : ' down'}${selected ? ' selected' : ''}${lit && !selected ? ' lit' : ''}`}
      data-testid={`topo-port-${id}`}
      role="button"
      tabIndex={0}
      aria-label={aria}
      aria-pressed={selected}
      onClick={() => onSelect(ns, name)}
      onKeyDown={(e) => {
        if (e.key !== 'Enter' && e.key !== ' ') return;
        e.preventDefault();
        onSelect(ns, name);
      }}
    >
      <title>{aria}</title>
      <circle cx={x} cy={y} r={5.5} />
      {label && (
        <text className={`topo-port-label at-${labelAt}`} x={lx} y={ly}>
          {name}
        </text>
      )}
    </g>
  );
});

export function TopologyView({ active }: { active: boolean }) {
  const lab = useLab();
  const nv = netviewOf(lab);
  const worldState = useAppState((s) => s.world.state);
  const running = worldState === 'running';
  // drawn in the task its diff arrives in: a deferred render, sliced and restarted by each row's update and
  // frame, put a 200-pod world's port 30 ms (p50) behind its arrival; the tables' rows are few (LiveViews)
  const topology = useNetview(nv, (s) => s.topology);
  const selected = useNetview(nv, (s) => s.selected);
  const slots = useRef(new PodSlots());
  const svgRef = useRef<SVGSVGElement>(null);
  const wrapRef = useRef<HTMLDivElement>(null);
  const [zoom, setZoom] = useState<number | 'fit'>('fit');
  const [fit, setFit] = useState(1);
  const [showRoutes, setShowRoutes] = useState(false);
  const nodeCount = topology?.namespaces.filter((n) => n.kind === 'node').length ?? 0;

  useEffect(() => {
    if (!running) slots.current = new PodSlots(); // a new world starts from an empty grid
  }, [running]);

  // the API's pods: Pending ones have no namespace to draw yet, Terminating ones are drawn marked
  const pods = useAppState((s) => s.pods);
  const api = useMemo((): ApiPods => {
    const drawn = new Set(topology?.namespaces.flatMap((n) => (n.pod ? [n.pod] : [])) ?? []);
    const fromApi = pods.filter((p) => p.fromApi);
    return {
      pending: fromApi.filter((p) => !p.netns && !drawn.has(p.name)).map((p) => ({ name: p.name, node: p.node })),
      phases: new Map(
        fromApi.filter((p) => p.phase && p.phase !== 'Running').map((p) => [p.name, p.phase!] as [string, string]),
      ),
    };
  }, [pods, topology]);
  const layout = useMemo(() => (topology ? layoutTopology(topology, slots.current, api) : null), [topology, api]);

  // how long from the event's arrival to the drawing on screen (the benchmark reads it)
  useLayoutEffect(() => {
    if (!layout) return;
    const arrived = nv.stats.topologyArrivedAt;
    requestAnimationFrame(() => {
      nv.stats.topologyRenderMs.push(performance.now() - arrived);
      nv.stats.topologyRenders++;
      if (nv.stats.topologyRenderMs.length > 500) nv.stats.topologyRenderMs.shift();
    });
  }, [layout, nv]);

  // measured again only when the drawing's size changes (not on every update: reading the pane's size forces a layout)
  const lw = layout?.w ?? 0;
  const lh = layout?.h ?? 0;
  useEffect(() => {
    const el = wrapRef.current;
    if (!el || !lw) return;
    // the whole drawing in view, larger than life when there is room (a projector wants that)
    // a small world is never shrunk below its smallest text's 11 px: it scrolls instead
    const floor = nodeCount <= READABLE_NODES ? SMALLEST_TEXT_PX / 11 : 0.1;
    // read in the observer's report (its first comes at once), when layout is already done: nothing forced
    const ro = new ResizeObserver(() =>
      setFit(Math.min(2, Math.max(floor, Math.min((el.clientWidth - 12) / lw, (el.clientHeight - 12) / lh)))),
    );
    ro.observe(el);
    return () => ro.disconnect();
  }, [lw, lh, active, nodeCount]);

  // the palette's export actions reach the drawing through the store
  useEffect(() => {
    nv.exporter = {
      svg: () => {
        if (!svgRef.current) throw new Error('the topology is empty: start a world first');
        return svgText(svgRef.current);
      },
      png: () => {
        if (!svgRef.current) return Promise.reject(new Error('the topology is empty: start a world first'));
        return pngBlob(svgRef.current);
      },
    };
    return () => {
      nv.exporter = null;
    };
  }, [nv]);

  const scale = zoom === 'fit' ? fit : zoom;
  const stepZoom = (dir: number) => {
    const i = ZOOMS.findIndex((z) => z >= scale - 0.001);
    const next = ZOOMS[Math.max(0, Math.min(ZOOMS.length - 1, (i < 0 ? ZOOMS.length - 1 : i) + dir))]!;
    setZoom(next);
  };
  const labels = useMemo(
    () => new Map(topology?.namespaces.map((n) => [n.id, n.kind === 'pod' ? `pod ${n.label}` : n.label])),
    [topology],
  );
  const nsLabel = (id: string) => labels.get(id) ?? id;
  const selId = selected ? `${selected.ns}|${selected.name}` : null;
  const selPort = layout?.ports.find((p) => p.id === selId);
  const lit = new Set(layout?.edges.filter((e) => selId && e.ends.includes(selId)).flatMap((e) => e.ends) ?? []);
  const onSelect = useMemo(() => (ns: string, name: string) => nv.selectLink({ ns, name }), [nv]);
  const counts = topology ? countsOf(topology) : '';

  // a followed packet: its path over the drawing, and the panel with its hops
  const ps = pathOf(lab);
  const result = usePath(ps, (s) => s.result);
  const panelOpen = usePath(ps, (s) => s.open);
  const hop = usePath(ps, (s) => s.selected);
  const drawing = useMemo(() => (layout && result ? layoutPath(layout, result) : null), [layout, result]);
  const onHop = useMemo(() => (i: number) => ps.selectHop(i), [ps]);
  const onDrawn = useMemo(() => () => ps.drawn(), [ps]);
  // the chosen hop in view (a small world scrolls rather than shrinks)
  useEffect(() => {
    if (hop === null) return;
    svgRef.current
      ?.querySelector(`[data-testid="path-hop-${hop}"]`)
      ?.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }, [hop, drawing]);

  if (!running || !layout) {
    return (
      <div className="terminal-empty" data-testid="topology-empty">
        <p>
          {running
            ? 'Reading the world…'
            : worldState === 'starting'
              ? 'The world is starting…'
              : 'No world is running.'}
        </p>
        <p className="muted">
          {worldState === 'starting'
            ? 'The topology draws every namespace of the world once it runs.'
            : 'The topology draws every namespace of the world: start a world in the top bar.'}
        </p>
      </div>
    );
  }

  return (
    <div className={`topo${panelOpen ? ' with-path' : ''}`}>
      <div className="topo-bar" role="toolbar" aria-label="Topology">
        <span className="muted topo-counts" data-testid="topo-counts">
          {counts}
        </span>
        <span className="topo-spacer" />
        <button
          className={`button small${panelOpen ? '' : ' primary'}`}
          data-testid="topo-follow"
          aria-pressed={panelOpen}
          title="Send a ping, a TCP SYN or a UDP datagram and draw the path it really takes, hop by hop"
          onClick={() => (panelOpen ? ps.setOpen(false) : ps.openForm())}
        >
          Follow a packet…
        </button>
        {result && (
          <button
            className="button small ghost"
            data-testid="topo-path-clear"
            title="Remove the followed path from the drawing"
            onClick={() => ps.clear()}
          >
            Clear path
          </button>
        )}
        <button
          className="button small ghost"
          data-testid="topo-routes-toggle"
          aria-pressed={showRoutes}
          title="Each node's routes (ip route) and each VXLAN tunnel's ends"
          onClick={() => setShowRoutes((v) => !v)}
        >
          Routes &amp; tunnels
        </button>
        <button className="button small ghost" aria-label="Zoom out" onClick={() => stepZoom(-1)}>
          −
        </button>
        <button
          className="button small ghost"
          aria-label="Fit to width"
          aria-pressed={zoom === 'fit'}
          onClick={() => setZoom('fit')}
        >
          {Math.round(scale * 100)}%
        </button>
        <button className="button small ghost" aria-label="Zoom in" onClick={() => stepZoom(1)}>
          +
        </button>
        <button
          className="button small"
          data-testid="topo-export-svg"
          onClick={() =>
            download('podnet-topology.svg', new Blob([svgText(svgRef.current!)], { type: 'image/svg+xml' }))
          }
        >
          Export SVG
        </button>
        <button
          className="button small"
          data-testid="topo-export-png"
          onClick={() =>
            void pngBlob(svgRef.current!).then(
              (b) => download('podnet-topology.png', b),
              (e: Error) => lab.notify(`Export PNG: ${e.message}`),
            )
          }
        >
          Export PNG
        </button>
      </div>
      <div className="topo-body">
        <div className="topo-stage">
          <div className="topo-canvas" ref={wrapRef}>
            <svg
              ref={svgRef}
              className="topo-svg"
              data-testid="topology-svg"
              viewBox={`0 0 ${layout.w} ${layout.h}`}
              width={layout.w * scale}
              height={layout.h * scale}
              role="group"
              aria-label={`Topology: ${counts}`}
              onClick={(e) => e.target === e.currentTarget && nv.selectLink(null)}
            >
              {layout.boxes.map((b) => (
                <BoxView key={b.id} {...b} />
              ))}
              {layout.bars.map((b) => (
                <g key={b.id} className="topo-bar-g" data-testid={`topo-bridge-${b.id}`}>
                  <line className="topo-bridge" x1={b.x1} x2={b.x2} y1={b.y} y2={b.y} />
                  <text className="topo-bridge-label" x={b.x2} y={b.y - 6}>
                    {b.label}
                  </text>
                </g>
              ))}
              {layout.edges.map((e) => (
                <EdgeView
                  key={e.id}
                  kind={e.kind}
                  d={e.d}
                  ends={e.ends.join(' ')}
                  lit={selId !== null && e.ends.includes(selId)}
                  onPath={drawing?.tunnels.has(e.id) ?? false}
                />
              ))}
              {layout.edges.map((e) => e.label && <EdgeLabel key={`${e.id}-label`} {...e.label} />)}
              {drawing && <PathLines drawing={drawing} />}
              {layout.ports.map((p) => (
                <PortView
                  key={p.id}
                  id={p.id}
                  ns={p.ns}
                  name={p.name}
                  x={p.x}
                  y={p.y}
                  labelAt={p.labelAt}
                  label={scale >= LABELS_FROM}
                  up={p.link.state === 'UP' || p.link.state === 'UNKNOWN'}
                  selected={p.id === selId}
                  lit={lit.has(p.id)}
                  aria={`${p.name} in ${nsLabel(p.ns)}${p.link.peer ? `, peer ${p.link.peer.name} in ${nsLabel(p.link.peer.ns)}` : ''}`}
                  onSelect={onSelect}
                  onPath={drawing?.ports.has(p.id) ?? false}
                />
              ))}
              {drawing && result && (
                <PathMarkers drawing={drawing} result={result} selected={hop} onSelect={onHop} onDrawn={onDrawn} />
              )}
            </svg>
          </div>
          {showRoutes && topology && (
            <RoutesPanel topology={topology} nsLabel={nsLabel} onClose={() => setShowRoutes(false)} />
          )}
          {selPort && (
            <Details
              port={selPort}
              nsLabel={nsLabel}
              onClose={() => nv.selectLink(null)}
              onShow={() => {
                void nv.showLinkRow(selPort.ns, selPort.link.index);
              }}
            />
          )}
        </div>
        {panelOpen && <FollowPanel store={ps} topology={topology} drawing={drawing} />}
      </div>
    </div>
  );
}
