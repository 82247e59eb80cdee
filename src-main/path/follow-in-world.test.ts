import { describe, expect, it } from 'vitest';
import type { World } from '../world/world.js';
import { MAX_SPACES, resolvePlace, spacesFor, type FollowWorld, type WorldPod } from './follow-in-world.js';

// Places and the capture's bound, on a stand-in that has only node names and addresses (no namespaces:
// following in a real world is test/path-in-world.test.ts)
function namesOnlyWorld(nodes: string[], pods: WorldPod[], services?: FollowWorld['service']): FollowWorld {
  const world = {
    nodes: new Map(nodes.map((n, i) => [n, { name: n, underlayIp: `192.0.2.${11 + i}` }])),
  } as unknown as World;
  return { world, pods: () => pods, ...(services ? { service: services } : {}) };
}
const pod = (name: string, node: string, i: number): WorldPod => ({
  name,
  node,
  ip: `10.244.${node.slice(4)}.${i}`,
  netns: `/run/netns/cni-${name}`,
});

describe('places', () => {
  const w = namesOnlyWorld(['node1', 'node2'], [pod('web', 'node2', 2), pod('node1x', 'node1', 3)], async (n) =>
    n === 'web' ? { clusterIP: '10.96.0.20', ports: [{ port: 80, protocol: 'TCP' }] } : undefined,
  );
  it('a pod by name (first), a node, a Service by svc:, an address with a port', async () => {
    expect(await resolvePlace(w, 'web', false)).toMatchObject({ ip: '10.244.2.2', space: { id: 'pod:web' } });
    expect(await resolvePlace(w, 'pod/web', false)).toMatchObject({ ip: '10.244.2.2' });
    expect(await resolvePlace(w, 'node1', true)).toMatchObject({ ip: '192.0.2.11', space: { id: 'node:node1' } });
    expect(await resolvePlace(w, 'svc:web', false)).toMatchObject({ ip: '10.96.0.20', port: 80 });
    expect(await resolvePlace(w, '10.244.9.9:8080', false)).toEqual({
      ip: '10.244.9.9',
      port: 8080,
      label: '10.244.9.9:8080',
    });
  });
  it('refuses what cannot be one, saying why', async () => {
    await expect(resolvePlace(w, '10.1.2.300', false)).rejects.toThrow('10.1.2.300: not an IPv4 address');
    await expect(resolvePlace(w, '10.1.2.3:0', false)).rejects.toThrow('a port is 1 to 65535');
    await expect(resolvePlace(w, 'svc:web', true)).rejects.toThrow(
      'a packet is sent from a pod or a node, not a Service',
    );
    const odd = namesOnlyWorld(
      ['node1'],
      [
        { name: 'hostnet', node: 'node1', ip: '192.0.2.11', netns: '' },
        { name: 'starting', node: 'node1', ip: '', netns: '/run/netns/cni-x' },
      ],
    );
    await expect(resolvePlace(odd, 'hostnet', true)).rejects.toThrow(
      "hostnet: pod hostnet is on its node's network (hostNetwork): follow from node:node1 instead",
    );
    await expect(resolvePlace(odd, 'pod:starting', false)).rejects.toThrow(
      'pod:starting: pod starting has no IP yet: wait until it runs',
    );
    await expect(resolvePlace(namesOnlyWorld(['node1'], []), 'svc:web', false)).rejects.toThrow(
      /control plane is not running/,
    );
  });
});

describe('the namespaces a follow captures in', () => {
  it(`at most ${MAX_SPACES}: the source, the destination, every node, then the pods on their nodes, saying who was left out`, () => {
    const pods = [
      ...Array.from({ length: 10 }, (_, i) => pod(`far${i}`, 'node3', i + 2)),
      ...Array.from({ length: 10 }, (_, i) => pod(`near${i}`, 'node1', i + 2)),
      pod('dst', 'node2', 2),
    ];
    const w = namesOnlyWorld(['node1', 'node2', 'node3'], pods);
    const from = {
      id: 'pod:near0',
      kind: 'pod' as const,
      node: 'node1',
      pod: 'near0',
      target: { kind: 'sandbox' as const },
    };
    const to = { ip: '10.244.2.2', label: 'dst', space: { ...from, id: 'pod:dst', node: 'node2', pod: 'dst' } };
    const r = spacesFor(w, from, to);
    expect(r.spaces).toHaveLength(MAX_SPACES);
    expect(r.spaces.slice(0, 5).map((s) => s.id)).toEqual([
      'pod:near0',
      'pod:dst',
      'node:node1',
      'node:node2',
      'node:node3',
    ]);
    // the source's node's pods all in, before node3's
    expect(r.spaces.filter((s) => s.id.startsWith('pod:near'))).toHaveLength(10);
    expect(r.limited).toMatch(/^captured in 16 namespaces at most .*: pod:far\d, .* not captured$/);
    expect(r.limited!.match(/pod:far\d/g)).toHaveLength(21 + 3 - MAX_SPACES);
    expect(spacesFor(namesOnlyWorld(['node1', 'node2'], pods.slice(10, 13)), from, to).limited).toBeUndefined();
  });
});
