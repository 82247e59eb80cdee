// Where everything of the topology goes: the sandbox as a band on top with the underlay bridge, nodes as
// boxes side by side, each with its bridges as bars and its pods in a grid below. Stable on purpose: a
// pod keeps its slot for as long as it lives (PodSlots), so one pod coming or going moves nothing else.
import type { Topology, TopoLink, TopoNamespace } from '../../src-main/api/contract.ts';

export interface Port {
  /** `${ns}|${name}` */
  id: string;
  ns: string;
  name: string;
  link: TopoLink;
  x: number;
  y: number;
  /** Where its label goes. */
  labelAt: 'right' | 'below' | 'above';
}
export interface Box {
  id: string;
  kind: 'sandbox' | 'node' | 'pod';
  label: string;
  sub: string;
  x: number;
  y: number;
  w: number;
  h: number;
  /** A pinned netns no pod claims (yet). */
  unclaimed: boolean;
  /** A pod of the API: Pending (no sandbox yet: drawn dashed) or Terminating. */
  phase?: string;
}

/** The API's pods the kernel cannot show yet (Pending: no netns) or shows without their state (Terminating). */
export interface ApiPods {
  /** Pods with no sandbox yet: on their node when scheduled, else named in the sandbox band. */
  pending: { name: string; node: string }[];
  /** Pod name → its phase, where it is not plain Running. */
  phases: Map<string, string>;
}
export interface Bar {
  id: string;
  ns: string;
  name: string;
  x1: number;
  x2: number;
  y: number;
  label: string;
}
export interface Edge {
  id: string;
  kind: 'veth' | 'master' | 'tunnel';
  /** An SVG path. */
  d: string;
  label?: { x: number; y: number; text: string };
  /** The ports it joins (for highlighting the selection). */
  ends: string[];
  /** For a straight or elbowed edge, its corners from the first end to the second (a followed path runs along them). */
  points?: [number, number][];
}
export interface Layout {
  w: number;
  h: number;
  boxes: Box[];
  bars: Bar[];
  ports: Port[];
  edges: Edge[];
}

const M = 24;
const PW = 176;
const PH = 66;
const CW = PW + 28;
const CH = PH + 44;
const SANDBOX_H = 92;
const NODE_GAP = 40;
const BAR_GAP = 30;
const OTHER_ROW = 44;
const OTHER_STEP = 96;

/** Each node's pods keep their slot until they go; new ones take the lowest free slot. */
export class PodSlots {
  private readonly byNode = new Map<string, Map<string, number>>();
  /** The most pods a node has held: columns only ever grow, so the grid does not reflow back and forth. */
  private highWater = 0;

  assign(node: string, pods: string[]): Map<string, number> {
    let m = this.byNode.get(node);
    if (!m) this.byNode.set(node, (m = new Map<string, number>()));
    const live = new Set(pods);
    for (const k of [...m.keys()]) if (!live.has(k)) m.delete(k);
    const used = new Set(m.values());
    for (const p of pods) {
      if (m.has(p)) continue;
      let s = 0;
      while (used.has(s)) s++;
      m.set(p, s);
      used.add(s);
    }
    this.highWater = Math.max(this.highWater, m.size ? Math.max(...m.values()) + 1 : 0);
    return m;
  }

  /** One column for up to two pods a node, so a small world fits side by side at full size. */
  get columns(): number {
    return this.highWater <= 2 ? 1 : Math.max(2, Math.ceil(Math.sqrt(this.highWater)));
  }

  get rows(): number {
    return Math.max(1, Math.ceil(this.highWater / this.columns));
  }

  private readonly most = new Map<string, number>();

  /** The most a measure of the drawing has been: a node's head only grows, so one interface coming and going moves nothing else. */
  atLeast(measure: string, value: number): number {
    const v = Math.max(this.most.get(measure) ?? 0, value);
    this.most.set(measure, v);
    return v;
  }
}

const visible = (l: TopoLink) => l.name !== 'lo';
const portId = (ns: string, name: string) => `${ns}|${name}`;

/** The items by a key of theirs, as a lookup (an unknown key has none). */
function group<T>(items: T[], key: (t: T) => string | undefined): (k: string | undefined) => T[] {
  const m = new Map<string | undefined, T[]>();
  for (const t of items) {
    const k = key(t);
    const list = m.get(k);
    if (list) list.push(t);
    else m.set(k, [t]);
  }
  return (k) => m.get(k) ?? [];
}

export function layoutTopology(
  topo: Topology,
  slots: PodSlots,
  api: ApiPods = { pending: [], phases: new Map() },
): Layout {
  const byId = new Map(topo.namespaces.map((n) => [n.id, n]));
  // each node's pods, pending pods and interfaces gathered once: a 200-pod world is laid out on every change
  const pendingByNode = group(api.pending, (p) => p.node);
  const pendingOf = (node: TopoNamespace) => pendingByNode(node.node);
  const sandbox = topo.namespaces.find((n) => n.kind === 'sandbox');
  const nodes = topo.namespaces.filter((n) => n.kind === 'node');
  const podsByNode = group(
    topo.namespaces.filter((p) => p.kind === 'pod'),
    (p) => p.node,
  );
  const podsOf = (node: TopoNamespace) => podsByNode(node.node);
  const slotMaps = new Map(
    nodes.map((n) => [
      n.id,
      slots.assign(n.id, [...podsOf(n).map((p) => p.id), ...pendingOf(n).map((p) => `pending:${p.name}`)]),
    ]),
  );
  const cols = slots.columns;
  const rows = slots.rows;

  const boxes: Box[] = [];
  const bars: Bar[] = [];
  const ports = new Map<string, Port>();
  const place = (ns: string, link: TopoLink, x: number, y: number, labelAt: Port['labelAt']) =>
    ports.set(portId(ns, link.name), { id: portId(ns, link.name), ns, name: link.name, link, x, y, labelAt });

  // every node has the same height: the tallest node's bridges and other interfaces decide it
  const linksOf = new Map(nodes.map((n) => [n, n.links.filter(visible)]));
  const nodeLinks = (n: TopoNamespace) => linksOf.get(n)!;
  const bridgesOf = (n: TopoNamespace) => nodeLinks(n).filter((l) => l.kind === 'bridge');
  const isUplink = (l: TopoLink) => l.peer !== undefined && byId.get(l.peer.ns)?.kind === 'sandbox';
  const toPod = (n: TopoNamespace, l: TopoLink) =>
    l.peer !== undefined &&
    byId.get(l.peer.ns)?.kind === 'pod' &&
    byId.get(l.peer.ns)?.node === n.node &&
    l.peer.ns !== n.id;
  const others = new Map(
    nodes.map((n) => [n, nodeLinks(n).filter((l) => l.kind !== 'bridge' && !isUplink(l) && !toPod(n, l))]),
  );
  const othersOf = (n: TopoNamespace) => others.get(n)!;
  const maxBridges = slots.atLeast('bridges', Math.max(1, ...nodes.map((n) => bridgesOf(n).length)));
  const maxOthers = slots.atLeast('others', Math.max(0, ...nodes.map((n) => othersOf(n).length)));
  const innerW = cols * CW;
  const nodeW = Math.max(280, innerW + 32, Math.min(6, maxOthers) * OTHER_STEP + 48);
  const otherRows = Math.ceil(maxOthers / Math.max(1, Math.floor((nodeW - 48) / OTHER_STEP)));
  // a node's head: its title, its other interfaces (VXLAN, …) in rows, then its bridges right above the pods
  const barsTop = 44 + otherRows * OTHER_ROW + 14;
  const headH = barsTop + maxBridges * BAR_GAP;
  const nodeH = headH + rows * CH + 16;
  const nodesTop = M + SANDBOX_H + 56;
  const totalW = Math.max(M * 2 + nodes.length * nodeW + Math.max(0, nodes.length - 1) * NODE_GAP, 520);

  const uplinkX = new Map<string, number>();
  nodes.forEach((n, i) => {
    const x = M + i * (nodeW + NODE_GAP);
    const y = nodesTop;
    boxes.push({
      id: n.id,
      kind: 'node',
      label: n.label,
      sub:
        nodeLinks(n)
          .find(isUplink)
          ?.addrs.find((a) => !a.includes(':')) ?? '',
      x,
      y,
      w: nodeW,
      h: nodeH,
      unclaimed: false,
    });
    // the uplink (eth0 to the sandbox) on the top edge
    const ups = nodeLinks(n).filter(isUplink);
    ups.forEach((l, j) => {
      const px = x + 48 + j * 120;
      place(n.id, l, px, y, 'below');
      if (j === 0) uplinkX.set(n.id, px);
    });
    bridgesOf(n).forEach((b, j) => {
      const by = y + barsTop + j * BAR_GAP;
      bars.push({
        id: portId(n.id, b.name),
        ns: n.id,
        name: b.name,
        x1: x + 16,
        x2: x + nodeW - 16,
        y: by,
        label: [b.name, ...b.addrs.filter((a) => !a.includes(':'))].join('  '),
      });
    });
    const perRow = Math.max(1, Math.floor((nodeW - 48) / OTHER_STEP));
    othersOf(n).forEach((l, j) =>
      place(n.id, l, x + 36 + (j % perRow) * OTHER_STEP, y + 58 + Math.floor(j / perRow) * OTHER_ROW, 'below'),
    );
    // pods in their slots
    const slotOf = slotMaps.get(n.id)!;
    // each pod's host-side veth, by the pod's end it is paired with
    const hostSides = new Map<string, TopoLink>();
    for (const l of nodeLinks(n)) {
      const k = l.peer && portId(l.peer.ns, l.peer.name);
      if (k && !hostSides.has(k)) hostSides.set(k, l);
    }
    for (const p of podsOf(n)) {
      const s = slotOf.get(p.id)!;
      const cx = x + 16 + (s % cols) * CW + 14;
      const cy = y + headH + Math.floor(s / cols) * CH;
      const podTop = cy + 30;
      const eth = p.links.filter(visible).find((l) => l.peer?.ns === n.id);
      // a netns made by hand has no eth0 to its node: its first IPv4 address (lab 01's bridge) instead
      const v4 = (a: string) => !a.includes(':') && !a.startsWith('127.');
      const ip = eth?.addrs.find(v4) ?? (p.pod ? undefined : p.links.flatMap((l) => l.addrs).find(v4)) ?? '';
      const phase = p.pod ? api.phases.get(p.pod) : undefined;
      boxes.push({
        id: p.id,
        kind: 'pod',
        label: p.label,
        sub: ip,
        x: cx,
        y: podTop,
        w: PW,
        h: PH,
        unclaimed: !p.pod,
        ...(phase ? { phase } : {}),
      });
      if (eth) {
        place(p.id, eth, cx + 22, podTop, 'right');
        const hostSide = hostSides.get(portId(p.id, eth.name));
        if (hostSide) place(n.id, hostSide, cx + 22, cy + 10, 'right');
      }
      // its other interfaces on its bottom edge, named below it (clear of its title and IP)
      p.links
        .filter((l) => visible(l) && l !== eth)
        .slice(0, 3)
        .forEach((l, j) => place(p.id, l, cx + 22 + j * 60, podTop + PH, 'below'));
    }
    // the API's pods bound here with no sandbox yet: a dashed box in their slot
    for (const p of pendingOf(n)) {
      const id = `pending:${p.name}`;
      const s = slotOf.get(id)!;
      const cx = x + 16 + (s % cols) * CW + 14;
      const podTop = y + headH + Math.floor(s / cols) * CH + 30;
      boxes.push({
        id,
        kind: 'pod',
        label: p.name,
        sub: '',
        x: cx,
        y: podTop,
        w: PW,
        h: PH,
        unclaimed: false,
        phase: 'Pending',
      });
    }
  });

  if (sandbox) {
    const unscheduled = api.pending.filter((p) => !p.node).map((p) => `pod ${p.name}`);
    boxes.unshift({
      id: sandbox.id,
      kind: 'sandbox',
      label: 'sandbox',
      sub: unscheduled.length ? `underlay · Pending, not scheduled: ${unscheduled.join(', ')}` : 'underlay',
      x: M,
      y: M,
      w: totalW - 2 * M,
      h: SANDBOX_H,
      unclaimed: false,
    });
    const sbBridges = sandbox.links.filter((l) => visible(l) && l.kind === 'bridge');
    sbBridges.forEach((b, j) =>
      bars.push({
        id: portId(sandbox.id, b.name),
        ns: sandbox.id,
        name: b.name,
        x1: M + 16,
        x2: totalW - M - 16,
        y: M + 40 + j * BAR_GAP,
        label: [b.name, ...b.addrs.filter((a) => !a.includes(':'))].join('  '),
      }),
    );
    let other = 0;
    for (const l of sandbox.links.filter(visible)) {
      if (l.kind === 'bridge') continue;
      const ux = l.peer ? uplinkX.get(l.peer.ns) : undefined;
      if (ux !== undefined) place(sandbox.id, l, ux, M + SANDBOX_H, 'above');
      else place(sandbox.id, l, totalW - M - 40 - other++ * OTHER_STEP, M + 24, 'below');
    }
  }

  // edges: veth pairs (once per pair), bridge ports to their bridge, VXLAN tunnels between nodes
  const edges: Edge[] = [];
  const done = new Set<string>();
  const barOf = new Map(bars.map((b) => [b.id, b]));
  const podBox = new Map(boxes.filter((b) => b.kind === 'pod').map((b) => [b.id, b]));
  for (const p of ports.values()) {
    const peer = p.link.peer && ports.get(portId(p.link.peer.ns, p.link.peer.name));
    if (peer && p.link.kind === 'veth') {
      const id = [p.id, peer.id].sort().join('~');
      if (!done.has(id)) {
        done.add(id);
        const d =
          p.x === peer.x
            ? `M${p.x},${p.y} L${peer.x},${peer.y}`
            : `M${p.x},${p.y} C${p.x},${(p.y + peer.y) / 2} ${peer.x},${(p.y + peer.y) / 2} ${peer.x},${peer.y}`;
        edges.push({
          id,
          kind: 'veth',
          d,
          ends: [p.id, peer.id],
          ...(p.x === peer.x
            ? {
                points: [
                  [p.x, p.y],
                  [peer.x, peer.y],
                ] as [number, number][],
              }
            : {}),
        });
      }
    }
    const bar = p.link.master ? barOf.get(portId(p.ns, p.link.master)) : undefined;
    if (bar) {
      const box = p.link.peer && podBox.get(p.link.peer.ns);
      // a pod's host-side veth climbs its column's gutter, so lines never cross a pod box
      const points: [number, number][] = box
        ? [
            [p.x, p.y],
            [box.x - 8, p.y],
            [box.x - 8, bar.y],
          ]
        : [
            [p.x, p.y],
            [p.x, bar.y],
          ];
      const d = points.map(([x, y], i) => `${i ? 'L' : 'M'}${x},${y}`).join(' ');
      edges.push({ id: `${p.id}>${bar.id}`, kind: 'master', d, ends: [p.id, bar.id], points });
    }
  }
  for (const t of topo.tunnels) {
    const a = ports.get(portId(t.from.ns, t.from.name));
    const b = t.to && ports.get(portId(t.to.ns, t.to.name));
    if (!a || !b) continue;
    const id = [a.id, b.id].sort().join('≈');
    if (done.has(id)) continue;
    done.add(id);
    const lift = -26; // a shallow arch above the row of other interfaces, under the node's title
    edges.push({
      id,
      kind: 'tunnel',
      d: `M${a.x},${a.y} C${a.x},${a.y + lift} ${b.x},${b.y + lift} ${b.x},${b.y}`,
      // under the arch's crest, clear of the node's title and address above it
      label: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 + lift * 0.75 + 16, text: `VXLAN VNI ${t.vni}` },
      ends: [a.id, b.id],
    });
  }

  return { w: totalW, h: nodesTop + nodeH + M, boxes, bars, ports: [...ports.values()], edges };
}
