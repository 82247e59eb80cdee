// The topology message from snapshots: namespaces in order, veth peers by contract id across
// namespaces, addresses per interface, and VXLAN tunnels matched to the node that holds the remote.
import { describe, expect, it } from 'vitest';
import { Topology } from '../api/contract.js';
import type { Addr, Link, NetSnapshot } from './snapshot.js';
import { buildTopology, type NamedSnapshot } from './topology.js';

const link = (index: number, name: string, extra: Partial<Link> = {}): Link => ({
  index,
  name,
  state: 'UP',
  flags: ['UP'],
  mtu: 1500,
  ...extra,
});
const addr = (ifname: string, local: string, prefixlen = 24): Addr => ({
  ifname,
  family: local.includes(':') ? 'inet6' : 'inet',
  local,
  prefixlen,
  scope: 'global',
});
const snap = (
  target: NetSnapshot['target'],
  links: Link[],
  addrs: Addr[] = [],
  extra: Partial<NetSnapshot> = {},
): NetSnapshot => ({ target, at: 0, links, addrs, routes: [], neighs: [], fdb: [], nsids: [], ...extra });

const POD_NETNS = '/run/netns/cni-aaaa';
// sandbox: underlay0 with u-node1/u-node2; node1: eth0 ↔ u-node1, cni0, veth to the pod, vx0 → node2; node2: vx0 → node1
const spaces: NamedSnapshot[] = [
  {
    id: 'pod:web',
    kind: 'pod',
    label: 'web',
    node: 'node1',
    pod: 'web',
    snapshot: snap(
      { kind: 'pod', node: 'node1', netns: POD_NETNS },
      [link(1, 'lo', { state: 'UNKNOWN' }), link(2, 'eth0', { kind: 'veth', peerIndex: 7, netnsId: 0 })],
      [addr('eth0', '10.244.1.2'), addr('eth0', 'fe80::1', 64)],
      { nsids: [{ nsid: 0 }] },
    ),
  },
  {
    id: 'node:node2',
    kind: 'node',
    label: 'node2',
    node: 'node2',
    snapshot: snap(
      { kind: 'node', node: 'node2' },
      [
        link(2, 'eth0', { kind: 'veth', peerIndex: 4, netnsId: 0 }),
        link(3, 'vx0', { kind: 'vxlan', vxlan: { vni: 42, remote: '192.0.2.11' } }),
      ],
      [addr('eth0', '192.0.2.12')],
    ),
  },
  {
    id: 'node:node1',
    kind: 'node',
    label: 'node1',
    node: 'node1',
    snapshot: snap(
      { kind: 'node', node: 'node1' },
      [
        link(2, 'eth0', { kind: 'veth', peerIndex: 3, netnsId: 0 }),
        link(5, 'cni0', { kind: 'bridge' }),
        link(7, 'veth1234', { kind: 'veth', master: 'cni0', peerIndex: 2, netnsId: 1 }),
        link(8, 'vx0', { kind: 'vxlan', vxlan: { vni: 42, remote: '192.0.2.12' } }),
      ],
      [addr('eth0', '192.0.2.11'), addr('cni0', '10.244.1.1')],
      { nsids: [{ nsid: 0 }, { nsid: 1, name: 'cni-aaaa' }] },
    ),
  },
  {
    id: 'sandbox',
    kind: 'sandbox',
    label: 'sandbox',
    snapshot: snap({ kind: 'sandbox' }, [
      link(2, 'underlay0', { kind: 'bridge' }),
      link(3, 'u-node1', { kind: 'veth', master: 'underlay0', peerIndex: 2, netnsId: 0 }),
      link(4, 'u-node2', { kind: 'veth', master: 'underlay0', peerIndex: 2, netnsId: 1 }),
    ]),
  },
];

describe('buildTopology', () => {
  const t = buildTopology(spaces, 7, 123);
  const ns = (id: string) => t.namespaces.find((n) => n.id === id)!;
  const l = (id: string, name: string) => ns(id).links.find((x) => x.name === name)!;

  it('lists the sandbox, then nodes, then pods, and fits the contract', () => {
    expect(t.namespaces.map((n) => n.id)).toEqual(['sandbox', 'node:node1', 'node:node2', 'pod:web']);
    expect(Topology.parse(t)).toEqual(t);
    expect(t.seq).toBe(7);
  });

  it('resolves veth peers across namespaces by their contract ids', () => {
    expect(l('pod:web', 'eth0').peer).toEqual({ ns: 'node:node1', name: 'veth1234', index: 7 });
    expect(l('node:node1', 'veth1234')).toMatchObject({
      master: 'cni0',
      peer: { ns: 'pod:web', name: 'eth0', index: 2 },
    });
    expect(l('node:node1', 'eth0').peer).toEqual({ ns: 'sandbox', name: 'u-node1', index: 3 });
    expect(l('sandbox', 'u-node2').peer).toEqual({ ns: 'node:node2', name: 'eth0', index: 2 });
    expect(l('node:node1', 'cni0').peer).toBeUndefined();
  });

  it('gives each interface its addresses, v4 and v6', () => {
    expect(l('pod:web', 'eth0').addrs).toEqual(['10.244.1.2/24', 'fe80::1/64']);
    expect(l('pod:web', 'lo').addrs).toEqual([]);
  });

  it('matches VXLAN tunnels to the node holding the remote, both ways; an unknown remote has no far end', () => {
    expect(t.tunnels).toEqual([
      {
        from: { ns: 'node:node1', name: 'vx0', index: 8 },
        remote: '192.0.2.12',
        vni: 42,
        to: { ns: 'node:node2', name: 'vx0', index: 3 },
      },
      {
        from: { ns: 'node:node2', name: 'vx0', index: 3 },
        remote: '192.0.2.11',
        vni: 42,
        to: { ns: 'node:node1', name: 'vx0', index: 8 },
      },
    ]);
    const lone = buildTopology(
      [
        {
          ...spaces[2]!,
          snapshot: {
            ...spaces[2]!.snapshot,
            fdb: [{ mac: '00:00:00:00:00:00', dev: 'vx0', flags: [], dst: '192.0.2.99' }],
          },
        },
      ],
      1,
    );
    expect(lone.tunnels.map((x) => [x.remote, x.to])).toEqual([
      ['192.0.2.12', undefined],
      ['192.0.2.99', undefined],
    ]);
  });
});

describe('buildTopology, built again', () => {
  it('keeps the object of a namespace whose snapshot, names and peers are the same, and builds the others', () => {
    const first = buildTopology(spaces, 1);
    const again = buildTopology(spaces, 2);
    expect(again.namespaces.map((n, i) => n === first.namespaces[i])).toEqual([true, true, true, true]);

    // the pod's namespace read again (a new snapshot): only it is new, and it equals what a fresh build gives
    const reread = spaces.map((s) => (s.id === 'pod:web' ? { ...s, snapshot: { ...s.snapshot } } : s));
    const third = buildTopology(reread, 3);
    const same = (id: string) =>
      third.namespaces.find((n) => n.id === id) === first.namespaces.find((n) => n.id === id);
    expect(['sandbox', 'node:node1', 'node:node2', 'pod:web'].map(same)).toEqual([true, true, true, false]);
    expect(third.namespaces.find((n) => n.id === 'pod:web')).toEqual(first.namespaces.find((n) => n.id === 'pod:web'));
  });

  it("builds a namespace again when its veth's peer went, though its own snapshot did not change", () => {
    const before = buildTopology(spaces, 1);
    const node1 = before.namespaces.find((n) => n.id === 'node:node1')!;
    const after = buildTopology(
      spaces.filter((s) => s.id !== 'pod:web'),
      2,
    );
    const node1After = after.namespaces.find((n) => n.id === 'node:node1')!;
    expect(node1After).not.toBe(node1);
    expect(node1After.links.find((l) => l.name === 'veth1234')!.peer).toBeUndefined();
    expect(node1After.links.find((l) => l.name === 'eth0')!.peer).toEqual({ ns: 'sandbox', name: 'u-node1', index: 3 });
  });

  it('builds a namespace again when its names changed (a pin a pod claims)', () => {
    const before = buildTopology(spaces, 1);
    const renamed = spaces.map((s) => (s.id === 'pod:web' ? { ...s, id: 'pod:web2', label: 'web2', pod: 'web2' } : s));
    const after = buildTopology(renamed, 2);
    const pod = after.namespaces.find((n) => n.kind === 'pod')!;
    expect(pod).not.toBe(before.namespaces.find((n) => n.kind === 'pod'));
    expect(pod).toMatchObject({ id: 'pod:web2', label: 'web2', pod: 'web2' });
    // and the node's veth names the pod by its new id
    const node1 = after.namespaces.find((n) => n.id === 'node:node1')!;
    expect(node1.links.find((l) => l.name === 'veth1234')!.peer).toEqual({ ns: 'pod:web2', name: 'eth0', index: 2 });
  });
});
