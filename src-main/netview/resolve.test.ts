// Cross-namespace facts in a real world (pods on cni0, the node on underlay0, a VXLAN device), and the
// matching logic where ifindexes alone are ambiguous.
import { describe, expect, it } from 'vitest';
import { withWorld, writeDefaultConf } from '../../test/helpers.js';
import { Kubelet } from '../runtime/kubelet.js';
import type { Target } from '../world/world.js';
import { resolveTopology } from './resolve.js';
import { readNamespace, type Link, type NetSnapshot } from './snapshot.js';

describe('resolveTopology in a world', () => {
  it('resolves pod eth0 → node veth on cni0, node eth0 → u-node1 on underlay0, and a VXLAN remote and VNI', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const k = new Kubelet(w, { loopback: 'internal' });
      const a = await k.syncPod({ name: 'a', node: 'node1' });
      const b = await k.syncPod({ name: 'b', node: 'node1' });
      const node: Target = { kind: 'node', node: 'node1' };
      const sandbox: Target = { kind: 'sandbox' };
      await w.run(node, [
        'ip',
        'link',
        'add',
        'vx0',
        'type',
        'vxlan',
        'id',
        '42',
        'remote',
        '192.0.2.12',
        'dstport',
        '4789',
        'dev',
        'eth0',
      ]);
      // a veth whose ends are both on the node: ip names the peer ("link") instead of giving link_index
      await w.run(node, ['ip', 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb']);
      const pods: Target[] = [a, b].map((p) => ({ kind: 'pod', node: 'node1', netns: p.netns }));
      const t0 = performance.now();
      const snaps = await Promise.all([sandbox, node, ...pods].map((t) => readNamespace(w, t)));
      const readMs = performance.now() - t0;
      const topo = resolveTopology(snaps);

      const nodeVeths = new Set<string>();
      for (const pod of pods) {
        const peer = topo.peerOf(pod, 'eth0')!;
        expect(peer, `peer of eth0 in ${JSON.stringify(pod)}`).toBeDefined();
        expect(peer.target).toEqual(node);
        expect(peer.link.kind).toBe('veth');
        expect(topo.masterOf(node, peer.link.name)?.name).toBe('cni0');
        expect(topo.masterOf(node, peer.link.name)?.kind).toBe('bridge');
        // and back
        expect(topo.peerOf(node, peer.link.name)).toMatchObject({ target: pod, link: { name: 'eth0' } });
        nodeVeths.add(peer.link.name);
      }
      expect(nodeVeths.size).toBe(2);

      const up = topo.peerOf(node, 'eth0')!;
      expect(up).toMatchObject({ target: sandbox, link: { name: 'u-node1', kind: 'veth' } });
      expect(topo.masterOf(sandbox, 'u-node1')?.name).toBe('underlay0');
      expect(topo.peerOf(sandbox, 'u-node1')).toMatchObject({ target: node, link: { name: 'eth0' } });

      expect(topo.vxlanOf(node, 'vx0')).toMatchObject({ vni: 42, remote: '192.0.2.12', port: 4789, dev: 'eth0' });
      expect(topo.peerOf(node, 'va')).toMatchObject({ target: node, link: { name: 'vb' } });

      // nsids learnt along the way: the node's named nsid is a pod, each pod's nsid for its peer is the node
      const podNsid = snaps[2]!.links.find((l) => l.name === 'eth0')!.netnsId!;
      expect(topo.nsidTarget(pods[0]!, podNsid)).toEqual(node);
      console.log(`netview: 4 namespaces read in parallel in ${readMs.toFixed(1)} ms`);
    }));
});

describe('Topology matching (pure)', () => {
  const veth = (index: number, name: string, peerIndex: number, netnsId?: number, extra: Partial<Link> = {}): Link => ({
    index,
    name,
    state: 'UP',
    flags: ['UP'],
    mtu: 1500,
    kind: 'veth',
    peerIndex,
    ...(netnsId === undefined ? {} : { netnsId }),
    ...extra,
  });
  const snap = (target: Target, links: Link[], nsids: NetSnapshot['nsids'] = []): NetSnapshot => ({
    target,
    at: 0,
    links,
    addrs: [],
    routes: [],
    neighs: [],
    fdb: [],
    nsids,
  });
  const sandbox: Target = { kind: 'sandbox' };
  const n1: Target = { kind: 'node', node: 'node1' };
  const n2: Target = { kind: 'node', node: 'node2' };
  const podA: Target = { kind: 'pod', node: 'node1', netns: '/run/netns/cni-a' };

  // Two nodes: pod a's eth0 (2 → 4) fits both node1's veth (4 → 2) and the sandbox's u-node2 (4 → 2).
  const snaps = [
    snap(sandbox, [veth(3, 'u-node1', 2, 0), veth(4, 'u-node2', 2, 1)], [{ nsid: 0 }, { nsid: 1 }]),
    snap(
      n1,
      [
        veth(2, 'eth0', 3, 0),
        { index: 3, name: 'cni0', state: 'UP', flags: [], mtu: 1500, kind: 'bridge' },
        veth(4, 'vethA', 2, 1, { master: 'cni0' }),
      ],
      [{ nsid: 0 }, { nsid: 1, name: 'cni-a' }],
    ),
    snap(n2, [veth(2, 'eth0', 4, 0)], [{ nsid: 0 }]),
    snap(podA, [veth(2, 'eth0', 4, 0)], [{ nsid: 0 }]),
  ];

  it('uses the back-reference, the pinned name and nsid consistency to pick the one true peer', () => {
    for (const order of [snaps, [...snaps].reverse()]) {
      const t = resolveTopology(order);
      expect(t.peerOf(podA, 'eth0')).toMatchObject({ target: n1, link: { name: 'vethA' } });
      expect(t.peerOf(sandbox, 'u-node2')).toMatchObject({ target: n2, link: { name: 'eth0' } });
      expect(t.peerOf(sandbox, 'u-node1')).toMatchObject({ target: n1, link: { name: 'eth0' } });
      expect(t.nsidTarget(sandbox, 1)).toEqual(n2);
    }
  });

  it('leaves a peer unresolved when the set cannot tell, rather than guess', () => {
    // without node1's pinned name, and without the node2 side, pod a's eth0 has two equal candidates
    const t = resolveTopology([
      snap(sandbox, [veth(4, 'u-node2', 2, 1)]),
      snap(n1, [veth(4, 'vethA', 2, 1)]),
      snap(podA, [veth(2, 'eth0', 4, 0)]),
    ]);
    expect(t.peerOf(podA, 'eth0')).toBeUndefined();
  });
});
