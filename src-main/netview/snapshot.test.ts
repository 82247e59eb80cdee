// A snapshot holds what ip -json shows, in plain rows, for a node and a pod.
import { describe, expect, it } from 'vitest';
import { withWorld, writeDefaultConf } from '../../test/helpers.js';
import { Kubelet } from '../runtime/kubelet.js';
import type { Target } from '../world/world.js';
import { readNamespace } from './snapshot.js';

describe('readNamespace', () => {
  it('matches ip -json for links, addresses and routes, and normalises the rest', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const pod = await new Kubelet(w, { loopback: 'internal' }).syncPod({ name: 'p', node: 'node1' });
      const node: Target = { kind: 'node', node: 'node1' };
      let s = await readNamespace(w, node);
      const t0 = performance.now();
      for (let i = 0; i < 10; i++) s = await readNamespace(w, node);
      console.log(
        `netview: one snapshot of a node (one exec, 7 commands) takes ${((performance.now() - t0) / 10).toFixed(1)} ms`,
      );

      const raw = JSON.parse(await w.run(node, ['ip', '-json', 'link', 'show'])) as {
        ifindex: number;
        ifname: string;
        operstate: string;
        mtu: number;
        address: string;
      }[];
      expect(s.links.map((l) => [l.index, l.name, l.state, l.mtu, l.mac])).toEqual(
        raw.map((r) => [r.ifindex, r.ifname, r.operstate, r.mtu, r.address]),
      );
      expect(s.links.find((l) => l.name === 'cni0')).toMatchObject({ kind: 'bridge', state: 'UP' });
      expect(s.links.find((l) => l.name === 'eth0')).toMatchObject({
        kind: 'veth',
        netnsId: expect.any(Number),
        peerIndex: expect.any(Number),
      });
      expect(s.addrs).toContainEqual({
        ifname: 'cni0',
        family: 'inet',
        local: '10.244.1.1',
        prefixlen: 24,
        scope: 'global',
      });
      expect(s.addrs).toContainEqual({
        ifname: 'eth0',
        family: 'inet',
        local: '192.0.2.11',
        prefixlen: 24,
        scope: 'global',
      });
      // the main table is named even though ip -json leaves it out; the local table is there too
      expect(s.routes).toContainEqual(
        expect.objectContaining({
          dst: '10.244.1.0/24',
          dev: 'cni0',
          table: 'main',
          family: 'inet',
          protocol: 'kernel',
          scope: 'link',
          prefsrc: '10.244.1.1',
        }),
      );
      expect(s.routes).toContainEqual(
        expect.objectContaining({ dst: '10.244.1.1', dev: 'cni0', table: 'local', type: 'local' }),
      );
      expect(s.routes.some((r) => r.family === 'inet6')).toBe(true);
      const vethName = s.links.find((l) => l.master === 'cni0')!.name;
      expect(s.fdb).toContainEqual(expect.objectContaining({ dev: vethName, master: 'cni0', state: 'permanent' }));
      expect(s.nsids).toContainEqual({ nsid: expect.any(Number), name: pod.netns.split('/').pop() });

      // a neighbour entry appears once the node has talked to the pod
      await w.run(node, ['ping', '-c', '1', '-W', '2', pod.ip]);
      const after = await readNamespace(w, node);
      expect(after.neighs).toContainEqual(
        expect.objectContaining({ dst: pod.ip, dev: 'cni0', lladdr: expect.any(String), state: expect.any(Array) }),
      );

      const p = await readNamespace(w, { kind: 'pod', node: 'node1', netns: pod.netns });
      expect(p.routes).toContainEqual(
        expect.objectContaining({ dst: 'default', gateway: '10.244.1.1', dev: 'eth0', table: 'main', family: 'inet' }),
      );
      expect(p.addrs).toContainEqual(expect.objectContaining({ ifname: 'eth0', local: pod.ip, prefixlen: 24 }));
    }));
});
