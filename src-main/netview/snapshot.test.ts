// A snapshot holds what ip -json shows, in plain rows, for a node and a pod.
import { describe, expect, it } from 'vitest';
import { withWorld, writeDefaultConf } from '../../test/helpers.js';
import { Kubelet } from '../runtime/kubelet.js';
import type { Target } from '../world/world.js';
import { readNamespace, readTables, TABLE_NAMES, type TableName } from './snapshot.js';

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
        `netview: one snapshot of a node (three execs, seven reads) takes ${((performance.now() - t0) / 10).toFixed(1)} ms`,
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

  it("tells each route's family as ip -4 and ip -6 do, defaults of both included, and reads tables alone as in a whole read", () =>
    withWorld(1, async (w) => {
      const node: Target = { kind: 'node', node: 'node1' };
      await w.run(node, [
        'sh',
        '-ec',
        [
          'ip link add v0 type veth peer name v1',
          // no link-local address, and both ends UP before reading: nothing changes between the reads
          'ip link set v0 addrgenmode none && ip link set v1 addrgenmode none',
          'ip link set v0 up && ip link set v1 up',
          'for i in $(seq 200); do ip link show v1 | grep -q "state UP" && ip link show v0 | grep -q "state UP" && break; sleep 0.01; done',
          'ip addr add 198.51.100.1/24 dev v0',
          'ip -6 addr add fd00:1::1/64 dev v0 nodad',
          'ip route add default via 198.51.100.254 dev v0 table 7',
          'ip -6 route add default via fd00:1::fe dev v0 table 7',
          'ip -6 route add default dev v0 metric 2048',
          'ip route add 203.0.113.0/24 dev v0 metric 5',
          'ip neigh add 198.51.100.9 lladdr 02:00:00:00:00:09 dev v0',
          'ip -6 neigh add fd00:1::9 lladdr 02:00:00:00:00:09 dev v0',
        ].join('\n'),
      ]);
      type Row = { dst: string; table?: string | number; dev?: string };
      const fam = async (f: '-4' | '-6') =>
        (JSON.parse(await w.run(node, ['ip', f, '-json', 'route', 'show', 'table', 'all'])) as Row[]).map(
          (r) => `${f === '-4' ? 'inet' : 'inet6'} ${r.dst} ${r.table ?? 'main'} ${r.dev ?? ''}`,
        );
      const want = [...(await fam('-4')), ...(await fam('-6'))];
      const s = await readNamespace(w, node);
      expect(s.routes.map((r) => `${r.family} ${r.dst} ${r.table} ${r.dev ?? ''}`)).toEqual(want);
      // the defaults of both families, each with its own
      expect(want).toEqual(
        expect.arrayContaining(['inet default 7 v0', 'inet6 default 7 v0', 'inet6 default main v0']),
      );
      expect(s.neighs.map((n) => n.dst)).toEqual(expect.arrayContaining(['198.51.100.9', 'fd00:1::9']));
      // each table alone, and any two together, read as the whole read has it
      const sets: TableName[][] = [
        ...TABLE_NAMES.map((t) => [t]),
        ['links', 'routes'],
        ['addrs', 'fdb'],
        [...TABLE_NAMES],
      ];
      for (const set of sets) {
        const part = await readTables(w, node, new Set(set));
        expect(Object.keys(part).sort()).toEqual([...set].sort());
        for (const t of set) expect(part[t]).toEqual(s[t]);
      }
    }));
});
