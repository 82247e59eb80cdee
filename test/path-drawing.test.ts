// A followed packet on the topology's drawing (renderer logic, plain functions), against one REAL preset world
// (test/fixtures/make-path-fixtures.mjs: `podnet path`'s ping and Service request, netview's topology of that
// same world, and the ping again once node1's route to node2's pods was removed): every hop finds its
// interface, the line runs along the drawing's edges (veth pairs, bridge ports, the underlay through the
// sandbox), the request and the reply keep to their own lanes, a drop is marked, and the words are right.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PathResult as PathResultSchema, Topology as TopologySchema, type Topology } from '../src-main/api/contract.js';
import { decisionBrief, hopDetails, hopSummary, resultTitle } from '../src-renderer/path/hop-text.js';
import { dropIndex, LANE, layoutPath, MARK, offsetLine } from '../src-renderer/path/path-layout.js';
import { formProblem } from '../src-renderer/path/form-check.js';
import type { PathResult } from '../src-renderer/path/types.js';
import { layoutTopology, PodSlots } from '../src-renderer/topology/layout.js';

const fixture = (name: string) =>
  JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8')) as unknown;
const world = fixture('path-result.json') as { ping: PathResult; service: PathResult };
const topology = fixture('path-topology.json') as Topology;
const dropped = fixture('path-dropped.json') as PathResult;
const layout = layoutTopology(topology, new PodSlots());
const portAt = (id: string) => layout.ports.find((p) => p.id === id)!;
const near = (a: number, b: number) => Math.abs(a - b) < 0.01;

describe('a followed packet on the drawing', () => {
  it('the fixtures are what the contract carries (make-path-fixtures.mjs writes them again after an engine change)', () => {
    for (const r of [world.ping, world.service, dropped]) expect(() => PathResultSchema.parse(r)).not.toThrow();
    expect(() => TopologySchema.parse(topology)).not.toThrow();
  });

  it('draws every hop of the cross-node ping on its own interface, request and reply in order', () => {
    const r = world.ping;
    const d = layoutPath(layout, r);
    expect(d.missing).toEqual([]);
    expect(d.markers.map((m) => m.index)).toEqual(r.hops.map((_, i) => i));
    expect(d.markers.map((m) => m.at)).toEqual(r.hops.map((h) => `${h.space}|${h.ifname}`));
    expect(d.lines.map((l) => l.leg)).toEqual(['request', 'reply']);
    // the underlay hop goes through the sandbox: node1's eth0, u-node1, the underlay bridge, u-node2, node2's eth0
    expect([...d.ports]).toEqual(expect.arrayContaining(['sandbox|u-node1', 'sandbox|u-node2', 'node:node1|eth0']));
    const bar = layout.bars.find((b) => b.id === 'sandbox|underlay0')!;
    expect(d.lines[0]!.points.some(([, y]) => near(y, bar.y + LANE) || near(y, bar.y - LANE))).toBe(true);
    // the VXLAN devices' tunnel carried it
    expect(d.tunnels.size).toBe(1);
    expect(d.drop).toBeUndefined();
  });

  it("puts a bridge's hop where its port's edge meets the bar, and keeps the two legs in their own lanes", () => {
    const r = world.ping;
    const d = layoutPath(layout, r);
    const cni0 = r.hops.findIndex((h) => h.leg === 'request' && h.space === 'node:node1' && h.ifname === 'cni0');
    const veth = r.hops[cni0 - 1]!;
    const gutter = layout.edges
      .find((e) => e.kind === 'master' && e.ends[0] === `${veth.space}|${veth.ifname}`)!
      .points!.at(-1)!;
    const m = d.markers.find((x) => x.index === cni0)!;
    expect(Math.hypot(m.x - gutter[0], m.y - gutter[1])).toBeLessThan(MARK * 1.5 + 0.01);
    // the client's eth0: the request leaves upward and the reply arrives downward, each on its right: their markers 2 × MARK apart
    const eth0 = portAt('pod:client|eth0');
    const req = d.markers.find((x) => x.index === 0)!;
    const rep = d.markers.find((x) => x.index === r.hops.length - 1)!;
    expect(req.at).toBe('pod:client|eth0');
    expect(rep.at).toBe('pod:client|eth0');
    expect(near(Math.abs(req.x - rep.x), 2 * MARK)).toBe(true);
    expect(near((req.x + rep.x) / 2, eth0.x)).toBe(true);
  });

  it("the Service's request: the DNAT hop's details name the chain, the rule and the backend", () => {
    const r = world.service;
    const d = layoutPath(layout, r);
    expect(d.missing).toEqual([]);
    const i = r.hops.findIndex((h) => h.decision.nat);
    expect(i).toBeGreaterThan(0);
    const rows = Object.fromEntries(hopDetails(r, i).map((x) => [x.key, x.value]));
    expect(rows['nat-chain']).toMatch(/^KUBE-SVC-\w+ → KUBE-SEP-\w+$/);
    expect(rows['nat-rule']).toMatch(/-j DNAT --to-destination 10\.244\.2\.\d+:80/);
    expect(rows['nat-backend']).toBe(r.hops[i]!.decision.nat!.backend);
    expect(rows.rewritten).toMatch(/^destination 10\.\d+\.\d+\.\d+ → 10\.244\.2\.\d+ \(DNAT\)$/);
    expect(rows['route-command']).toMatch(/^ip route get /);
    expect(decisionBrief(r.hops[i]!)).toContain(`DNAT → ${r.hops[i]!.decision.nat!.backend}`);
    expect(resultTitle(r)).toMatch(/^TCP pod client → 10\.\d+\.\d+\.\d+:80: 20 hops \(request and reply\)/);
  });

  it('a VXLAN hop shows its outer header and VNI, and the inner packet', () => {
    const r = world.ping;
    const i = r.hops.findIndex((h) => h.vxlan && h.direction === 'out');
    const h = r.hops[i]!;
    const rows = Object.fromEntries(hopDetails(r, i).map((x) => [x.key, x.value]));
    expect(rows.vxlan).toBe(`${h.packet.src} > ${h.packet.dst} UDP ${h.packet.l4.sport} > 4789, VNI 1`);
    expect(rows.packet).toMatch(/^10\.244\.1\.\d+ > 10\.244\.2\.\d+ ICMP echo request id \d+ seq \d+$/);
    expect(hopSummary(h)).toBe(`${h.packet.src} > ${h.packet.dst} UDP 4789 VNI 1`);
  });

  it('a dropped ping: the last hop where it was seen is marked with the reason', () => {
    const d = layoutPath(layout, dropped);
    expect(dropped.drop?.reason).toBe('no route');
    const i = dropIndex(dropped);
    expect(i).toBe(dropped.hops.length - 1);
    expect(d.drop).toMatchObject({ index: i, text: 'no route' });
    expect(d.markers.find((m) => m.index === i)).toMatchObject({ x: d.drop!.x, y: d.drop!.y });
    expect(d.lines.map((l) => l.leg)).toEqual(['request']);
    // its tag covers no other hop's marker and no node's or pod's title
    const t = d.drop!.tag;
    const hit = (x: number, y: number, w: number, h: number) =>
      t.x < x + w && x < t.x + t.w && t.y < y + h && y < t.y + t.h;
    for (const m of d.markers) expect(hit(m.x - 8, m.y - 8, 16, 16)).toBe(false);
    for (const b of layout.boxes.filter((x) => x.kind === 'node')) expect(hit(b.x + 90, b.y + 6, 160, 36)).toBe(false);
    expect(d.tunnels.size).toBe(0);
  });

  it('an interface the drawing does not have is listed as missing, not drawn somewhere else', () => {
    const r: PathResult = {
      ...world.ping,
      hops: world.ping.hops.map((h, i) => (i === 3 ? { ...h, ifname: 'nosuch0' } : h)),
    };
    const d = layoutPath(layout, r);
    expect(d.missing).toEqual([3]);
    expect(d.markers.some((m) => m.index === 3)).toBe(false);
  });

  it('offsets a line to the right of its travel, mitred at corners', () => {
    // east, then south: right of east is +y, right of south is −x; the corner sits at both offsets at once
    expect(
      offsetLine(
        [
          [0, 0],
          [10, 0],
          [10, 10],
        ],
        2,
      ).map(([x, y]) => [Math.round(x * 100) / 100, Math.round(y * 100) / 100]),
    ).toEqual([
      [0, 2],
      [8, 2],
      [8, 10],
    ]);
  });

  it("the form says what is missing before the engine is asked; a Service's own port is the engine's to choose", () => {
    expect(formProblem({ from: '', to: 'pod:b', kind: 'ping' })).toMatch(/where the packet starts/);
    expect(formProblem({ from: 'pod:a', to: ' ', kind: 'ping' })).toMatch(/where it goes/);
    expect(formProblem({ from: 'pod:a', to: 'pod:b', kind: 'tcp' })).toBe(
      'A TCP packet to pod:b needs a port (1–65535).',
    );
    expect(formProblem({ from: 'pod:a', to: '10.244.2.3', kind: 'udp' })).toMatch(
      /UDP packet to 10\.244\.2\.3 needs a port/,
    );
    expect(formProblem({ from: 'pod:a', to: 'pod:b', kind: 'tcp', port: 70000 })).toMatch(/1 to 65535/);
    expect(formProblem({ from: 'pod:a', to: 'svc:web', kind: 'tcp' })).toBeUndefined();
    expect(formProblem({ from: 'pod:a', to: '10.96.0.10:80', kind: 'tcp' })).toBeUndefined();
    expect(formProblem({ from: 'node:node1', to: 'pod:b', kind: 'ping' })).toBeUndefined();
  });
});
