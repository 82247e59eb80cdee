// Where a followed packet goes on the topology's drawing: each hop's interface found by (namespace, name)
// (a port, or a bridge's bar), the line between two hops run along the drawing's own edges (a veth pair,
// a bridge port to its bar, node to node through the sandbox's underlay), and the request and the reply
// each in its own lane (right-hand traffic), so the two never draw over each other.
import type { Bar, Edge, Layout, Port } from '../topology/layout.ts';
import type { Hop, PathResult } from './types.ts';

type Pt = [number, number];

export interface HopMarker {
  /** The hop's index in the result's hops. */
  index: number;
  leg: Hop['leg'];
  x: number;
  y: number;
  /** The port or bridge it sits on (`${ns}|${name}`). */
  at: string;
}

export interface LegLine {
  leg: Hop['leg'];
  /** An SVG path through the leg's hops, in its lane. */
  d: string;
  points: Pt[];
}

export interface PathDrawing {
  lines: LegLine[];
  markers: HopMarker[];
  /** Hops whose interface is not on the drawing (listed, not drawn). */
  missing: number[];
  /** Ports the path passes (their labels move clear of the markers). */
  ports: Set<string>;
  /** Tunnel edges whose two VXLAN devices the path crossed. */
  tunnels: Set<string>;
  /** The drop: the last hop where the request was seen. */
  drop?: { index: number; x: number; y: number; text: string };
}

/** How far each leg's lane runs from the drawing's own lines. */
export const LANE = 5;
/** Two markers of a leg closer than this are moved apart along the drawing. */
const CROWD = 12;

const key = (h: Pick<Hop, 'space' | 'ifname'>) => `${h.space}|${h.ifname}`;
const same = (a: Pt, b: Pt) => Math.abs(a[0] - b[0]) < 0.01 && Math.abs(a[1] - b[1]) < 0.01;

/** The hop of `hops` that a drop's `lastSeen` copy names. */
export function dropIndex(r: PathResult): number {
  const d = r.drop?.lastSeen;
  if (!d) return -1;
  return r.hops.findIndex(
    (h) =>
      h.leg === d.leg &&
      h.space === d.space &&
      h.ifname === d.ifname &&
      h.direction === d.direction &&
      h.time === d.time,
  );
}

export function layoutPath(layout: Layout, r: PathResult): PathDrawing {
  const ports = new Map(layout.ports.map((p) => [p.id, p]));
  const bars = new Map(layout.bars.map((b) => [b.id, b]));
  const edges = new Map<string, Edge>(layout.edges.map((e) => [e.id, e]));
  const vethEdge = (a: string, b: string) => edges.get([a, b].sort().join('~'));
  const masterPoints = (p: Port): Pt[] | undefined =>
    p.link.master ? edges.get(`${p.id}>${p.ns}|${p.link.master}`)?.points : undefined;
  const peerOf = (p: Port) => (p.link.peer ? ports.get(`${p.link.peer.ns}|${p.link.peer.name}`) : undefined);

  const onPath = new Set<string>();
  const markers: HopMarker[] = [];
  const missing: number[] = [];
  const lines: LegLine[] = [];

  for (const leg of ['request', 'reply'] as const) {
    const hops = r.hops.map((h, index) => ({ h, index })).filter((x) => x.h.leg === leg);
    // each hop's anchor: its port, or a point on its bridge's bar (settled below, from its neighbours)
    type Anchor = { index: number; port?: Port; bar?: Bar; at: string; pt: Pt };
    const raw = hops.map(({ h, index }) => ({ index, port: ports.get(key(h)), bar: bars.get(key(h)), at: key(h) }));
    const anchors: Anchor[] = [];
    raw.forEach((a, i) => {
      if (a.port) return anchors.push({ index: a.index, port: a.port, at: a.at, pt: [a.port.x, a.port.y] });
      if (!a.bar) return missing.push(a.index);
      // where a neighbouring hop's bridge port meets the bar; else under the neighbour, on the bar
      const bar = a.bar;
      const near = [raw[i - 1], raw[i + 1]].map((n) => n?.port).filter((p): p is Port => !!p);
      const port = near.find((p) => p.ns === bar.ns && p.link.master === bar.name);
      const gutter = port && masterPoints(port)?.at(-1);
      const x = gutter
        ? gutter[0]
        : near[0]
          ? Math.min(bar.x2 - 8, Math.max(bar.x1 + 8, near[0].x))
          : (bar.x1 + bar.x2) / 2;
      anchors.push({ index: a.index, bar, at: a.at, pt: [x, bar.y] });
    });
    if (!anchors.length) continue;

    // the line: along the drawing's edges between consecutive hops where they join, straight otherwise
    const pts: Pt[] = [anchors[0]!.pt];
    const vertexOf = new Map<number, number>([[anchors[0]!.index, 0]]);
    const push = (p: Pt) => !same(pts[pts.length - 1]!, p) && pts.push(p);
    for (let i = 1; i < anchors.length; i++) {
      const a = anchors[i - 1]!;
      const b = anchors[i]!;
      for (const p of route(a, b)) push(p);
      push(b.pt);
      vertexOf.set(b.index, pts.length - 1);
    }
    function route(a: Anchor, b: Anchor): Pt[] {
      if (a.port && b.port) {
        // a veth pair: the straight line between its ends
        if (vethEdge(a.port.id, b.port.id)) return [];
        // two ports of one bridge: up to the bar and down again
        const ma = masterPoints(a.port);
        const mb = masterPoints(b.port);
        if (ma && mb && a.port.ns === b.port.ns && a.port.link.master === b.port.link.master)
          return [...ma, ...[...mb].reverse()];
        // node to node: through each one's peer in the sandbox and the bridge they share (the underlay)
        const pa = peerOf(a.port);
        const pb = peerOf(b.port);
        const sa = pa && masterPoints(pa);
        const sb = pb && masterPoints(pb);
        if (pa && pb && sa && sb && pa.ns === pb.ns && pa.link.master === pb.link.master) {
          onPath.add(pa.id).add(pb.id);
          return [...sa, ...[...sb].reverse()];
        }
        return [];
      }
      if (a.port && b.bar && a.port.link.master === b.bar.name && a.port.ns === b.bar.ns)
        return masterPoints(a.port) ?? [];
      if (b.port && a.bar && b.port.link.master === a.bar.name && b.port.ns === a.bar.ns)
        return [...(masterPoints(b.port) ?? [])].reverse();
      return [];
    }

    const lane = offsetLine(pts, LANE);
    lines.push({
      leg,
      points: lane,
      d: lane.map(([x, y], i) => `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`).join(' '),
    });
    const placed: Pt[] = [];
    for (const a of anchors) {
      const v = vertexOf.get(a.index) ?? 0;
      const y = lane[v]![1];
      let x = lane[v]![0];
      // a hop on the interface of the one before it (in, then out of one device): beside it, not on it
      while (placed.some((p) => Math.hypot(p[0] - x, p[1] - y) < CROWD)) x += CROWD + 2;
      placed.push([x, y]);
      markers.push({ index: a.index, leg, x, y, at: a.at });
      if (a.port) onPath.add(a.port.id);
    }
  }

  // a VXLAN device sending on one node and one receiving on the other: the tunnel between them carried it
  const tunnels = new Set<string>();
  const vx = r.hops.filter((h) => h.kind === 'vxlan');
  for (const e of layout.edges)
    if (
      e.kind === 'tunnel' &&
      vx.some((a) => vx.some((b) => a.space !== b.space && e.ends.includes(key(a)) && e.ends.includes(key(b))))
    )
      tunnels.add(e.id);

  const di = dropIndex(r);
  const dm = markers.find((m) => m.index === di);
  markers.sort((a, b) => a.index - b.index);
  return {
    lines,
    markers,
    missing: missing.sort((a, b) => a - b),
    ports: onPath,
    tunnels,
    ...(r.drop && dm ? { drop: { index: di, x: dm.x, y: dm.y, text: `dropped: ${r.drop.reason}` } } : {}),
  };
}

/**
 * The polyline moved `off` to the right of its direction of travel (screen coordinates: y grows down),
 * mitred at its corners; a U-turn keeps the incoming side.
 */
export function offsetLine(pts: Pt[], off: number): Pt[] {
  if (pts.length < 2) return pts.map((p) => [...p] as Pt);
  const normal = (a: Pt, b: Pt): Pt => {
    const dx = b[0] - a[0];
    const dy = b[1] - a[1];
    const l = Math.hypot(dx, dy) || 1;
    return [-dy / l, dx / l];
  };
  return pts.map((p, i) => {
    const n1 = i > 0 ? normal(pts[i - 1]!, p) : undefined;
    const n2 = i < pts.length - 1 ? normal(p, pts[i + 1]!) : undefined;
    const a = n1 ?? n2!;
    const b = n2 ?? n1!;
    const dot = a[0] * b[0] + a[1] * b[1];
    if (dot < -0.5) return [p[0] + a[0] * off, p[1] + a[1] * off];
    const m: Pt = [a[0] + b[0], a[1] + b[1]];
    const ml = Math.hypot(m[0], m[1]) || 1;
    const scale = off / Math.max(0.5, (m[0] / ml) * a[0] + (m[1] / ml) * a[1]);
    return [p[0] + (m[0] / ml) * scale, p[1] + (m[1] / ml) * scale];
  });
}
