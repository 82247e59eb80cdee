// Where a followed packet goes on the topology's drawing: each hop's interface found by (namespace, name)
// (a port, or a bridge's bar), the line between two hops run along the drawing's own edges (a veth pair,
// a bridge port to its bar, node to node through the sandbox's underlay), and the request and the reply
// each in its own lane (right-hand traffic), so the two never draw over each other.
import type { Bar, Edge, Layout, Port } from '../topology/layout.ts';
import type { Hop, PathResult } from './types.ts';

type Pt = [number, number];
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

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
  drop?: { index: number; x: number; y: number; text: string; tag: Rect };
}

/** How far each leg's lane runs from the drawing's own lines. */
export const LANE = 5;
/** How far a hop's marker sits from the drawing's line, on its leg's side: the two legs' markers never overlap. */
export const MARK = 10;
/** Two markers of a leg closer than this are moved apart along the drawing. */
const CROWD = 17;

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
  /** Every marker placed so far, both legs: a new one never covers one. */
  const placed: Pt[] = [];
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
    const marks = offsetLine(pts, MARK);
    lines.push({
      leg,
      points: lane,
      d: lane.map(([x, y], i) => `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`).join(' '),
    });
    for (const a of anchors) {
      const v = vertexOf.get(a.index) ?? 0;
      const [x, y] = apart(marks[v]!, placed);
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
    ...(r.drop && dm ? { drop: dropTag(layout, dm, r.drop.reason, markers) } : {}),
  };
}

/**
 * The drop's tag: beside its marker where it covers least — its own marker never, a title worst, then
 * another hop's marker, then a bridge's label (the first of the least, above first).
 */
function dropTag(layout: Layout, m: HopMarker, text: string, markers: HopMarker[]): NonNullable<PathDrawing['drop']> {
  // 13 px bold: about 7.6 px a character, and room for the ✕ (the tag need not be exact, only wide enough)
  const w = Math.round(text.length * 7.6) + 30;
  const h = 22;
  const clampX = (x: number) => Math.max(4, Math.min(layout.w - w - 4, x));
  const titles: Rect[] = layout.boxes.map((b) =>
    b.kind === 'node'
      ? { x: b.x + 90, y: b.y + 6, w: 160, h: 36 }
      : b.kind === 'pod'
        ? { x: b.x + 6, y: b.y + 20, w: b.w - 12, h: 38 }
        : { x: b.x + 8, y: b.y + 4, w: 120, h: 34 },
  );
  const others: Rect[] = markers.filter((o) => o !== m).map((o) => ({ x: o.x - 9, y: o.y - 9, w: 18, h: 18 }));
  const own: Rect = { x: m.x - 9, y: m.y - 9, w: 18, h: 18 };
  // a bridge's label: right-aligned at its bar's end, 11 px mono (about 6.7 px a character)
  const labels: Rect[] = layout.bars.map((b) => ({
    x: b.x2 - b.label.length * 6.7,
    y: b.y - 17,
    w: b.label.length * 6.7,
    h: 14,
  }));
  const overlap = (r: Rect, t: Rect) => r.x < t.x + t.w && t.x < r.x + r.w && r.y < t.y + t.h && t.y < r.y + r.h;
  const cost = (r: Rect) =>
    (overlap(r, own) ? 10 : 0) +
    3 * titles.filter((t) => overlap(r, t)).length +
    2 * others.filter((t) => overlap(r, t)).length +
    labels.filter((t) => overlap(r, t)).length;
  const places: Rect[] = [
    { x: clampX(m.x - 14), y: m.y - 18 - h, w, h },
    { x: clampX(m.x + 16), y: m.y - h / 2, w, h },
    { x: clampX(m.x + 14), y: m.y + 6, w, h },
    { x: clampX(m.x - 14), y: m.y + 18, w, h },
    { x: clampX(m.x - 16 - w), y: m.y - h / 2, w, h },
    { x: clampX(m.x + 14), y: m.y - 6 - h, w, h },
  ];
  const tag = places.reduce((best, r) => (cost(r) < cost(best) ? r : best));
  return { index: m.index, x: m.x, y: m.y, text, tag };
}

/**
 * A marker's place: where it is wanted, unless it would cover one already placed (two interfaces close
 * together, a device's in then out); then pushed straight away from each it covers, a few rounds at most.
 */
function apart(want: Pt, placed: Pt[]): Pt {
  let [x, y] = want;
  for (let round = 0; round < 4; round++) {
    let moved = false;
    for (const [px, py] of placed) {
      const d = Math.hypot(x - px, y - py);
      if (d >= CROWD) continue;
      // the same spot: away along x, the drawing's labels are beside, not on, the lines
      const [ux, uy] = d < 0.01 ? [1, 0] : [(x - px) / d, (y - py) / d];
      x = px + ux * CROWD;
      y = py + uy * CROWD;
      moved = true;
    }
    if (!moved) break;
  }
  return [x, y];
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
