// The topology's layout (renderer logic, plain functions): pods keep their slots while others come and
// go, and the drawing has a port per interface, veth edges across namespaces, bridge edges, and tunnels.
import { describe, expect, it } from 'vitest';
import type { Topology, TopoLink, TopoNamespace } from '../src-main/api/contract.js';
import { layoutTopology, PodSlots } from '../src-renderer/topology/layout.js';

const link = (index: number, name: string, extra: Partial<TopoLink> = {}): TopoLink => ({
  index,
  name,
  state: 'UP',
  mtu: 1500,
  addrs: [],
  ...extra,
});

function world(pods: string[]): Topology {
  const node: TopoNamespace = {
    id: 'node:node1',
    kind: 'node',
    label: 'node1',
    node: 'node1',
    links: [
      link(2, 'eth0', { kind: 'veth', peer: { ns: 'sandbox', name: 'u-node1', index: 3 }, addrs: ['192.0.2.11/24'] }),
      link(3, 'cni0', { kind: 'bridge', addrs: ['10.244.1.1/24'] }),
      link(4, 'vx0', { kind: 'vxlan', vxlan: { vni: 42, remote: '192.0.2.12' } }),
      ...pods.map((p, i) =>
        link(10 + i, `veth${p}`, { kind: 'veth', master: 'cni0', peer: { ns: `pod:${p}`, name: 'eth0', index: 2 } }),
      ),
    ],
  };
  const node2: TopoNamespace = {
    id: 'node:node2',
    kind: 'node',
    label: 'node2',
    node: 'node2',
    links: [
      link(2, 'eth0', { kind: 'veth', peer: { ns: 'sandbox', name: 'u-node2', index: 4 } }),
      link(3, 'vx0', { kind: 'vxlan', vxlan: { vni: 42 } }),
    ],
  };
  const sandbox: TopoNamespace = {
    id: 'sandbox',
    kind: 'sandbox',
    label: 'sandbox',
    links: [
      link(2, 'underlay0', { kind: 'bridge' }),
      link(3, 'u-node1', { kind: 'veth', master: 'underlay0', peer: { ns: 'node:node1', name: 'eth0', index: 2 } }),
      link(4, 'u-node2', { kind: 'veth', master: 'underlay0', peer: { ns: 'node:node2', name: 'eth0', index: 2 } }),
    ],
  };
  const podNs = pods.map((p, i): TopoNamespace => ({
    id: `pod:${p}`,
    kind: 'pod',
    label: p,
    pod: p,
    node: 'node1',
    links: [
      link(1, 'lo'),
      link(2, 'eth0', {
        kind: 'veth',
        addrs: [`10.244.1.${i + 2}/24`],
        peer: { ns: 'node:node1', name: `veth${p}`, index: 10 + i },
      }),
    ],
  }));
  return {
    seq: 1,
    at: 0,
    namespaces: [sandbox, node, node2, ...podNs],
    tunnels: [
      {
        from: { ns: 'node:node1', name: 'vx0', index: 4 },
        remote: '192.0.2.12',
        vni: 42,
        to: { ns: 'node:node2', name: 'vx0', index: 3 },
      },
    ],
  };
}

describe('PodSlots', () => {
  it('keeps each pod in its slot; a new pod takes the lowest free slot', () => {
    const s = new PodSlots();
    expect([...s.assign('n', ['a', 'b', 'c'])]).toEqual([
      ['a', 0],
      ['b', 1],
      ['c', 2],
    ]);
    expect([...s.assign('n', ['a', 'c'])]).toEqual([
      ['a', 0],
      ['c', 2],
    ]);
    expect(s.assign('n', ['a', 'c', 'd']).get('d')).toBe(1);
    expect(s.assign('n', ['a', 'c', 'd', 'e']).get('e')).toBe(3);
  });

  it('only ever widens its grid', () => {
    const s = new PodSlots();
    s.assign(
      'n',
      Array.from({ length: 10 }, (_, i) => `p${i}`),
    );
    const cols = s.columns;
    s.assign('n', ['p0']);
    expect(s.columns).toBe(cols);
  });
});

describe('layoutTopology', () => {
  it('draws ports, veth edges across namespaces, bridge edges and the tunnel', () => {
    const l = layoutTopology(world(['a', 'b']), new PodSlots());
    const ids = l.ports.map((p) => p.id);
    for (const id of ['pod:a|eth0', 'node:node1|vetha', 'node:node1|eth0', 'sandbox|u-node1', 'node:node1|vx0'])
      expect(ids).toContain(id);
    expect(ids).not.toContain('pod:a|lo');
    const veths = l.edges.filter((e) => e.kind === 'veth').map((e) => [...e.ends].sort().join(' '));
    expect(veths).toEqual(expect.arrayContaining(['node:node1|vetha pod:a|eth0', 'node:node1|eth0 sandbox|u-node1']));
    expect(veths).toHaveLength(4); // two pods, two node uplinks
    expect(l.edges.filter((e) => e.kind === 'master').map((e) => e.ends[1])).toEqual(
      expect.arrayContaining(['node:node1|cni0', 'sandbox|underlay0']),
    );
    expect(l.edges.filter((e) => e.kind === 'tunnel')).toEqual([
      expect.objectContaining({ label: expect.objectContaining({ text: 'VXLAN VNI 42' }) }),
    ]);
    expect(l.boxes.find((b) => b.id === 'pod:b')?.sub).toBe('10.244.1.3/24');
  });

  it('moves nothing else when a pod comes or goes', () => {
    const slots = new PodSlots();
    const first = layoutTopology(world(['a', 'b', 'c', 'd']), slots);
    const later = layoutTopology(world(['a', 'c', 'd']), slots);
    const again = layoutTopology(world(['a', 'c', 'd', 'e']), slots);
    const at = (l: typeof first, id: string) => l.boxes.find((b) => b.id === id)!;
    for (const id of ['pod:a', 'pod:c', 'pod:d', 'node:node1', 'node:node2']) {
      expect([at(later, id).x, at(later, id).y]).toEqual([at(first, id).x, at(first, id).y]);
      expect([at(again, id).x, at(again, id).y]).toEqual([at(first, id).x, at(first, id).y]);
    }
    // the new pod takes the slot the deleted one left
    expect([at(again, 'pod:e').x, at(again, 'pod:e').y]).toEqual([at(first, 'pod:b').x, at(first, 'pod:b').y]);
  });
});
