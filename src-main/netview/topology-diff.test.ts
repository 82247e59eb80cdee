// The topology's diffs, pure: what changed goes, what did not keeps its object, a diff from another seq is refused.
import { describe, expect, it } from 'vitest';
import type { Topology, TopoNamespace } from '../api/contract.js';
import { applyTopologyDiff, diffTopology } from './topology-diff.js';

const ns = (id: string, links: string[] = ['lo']): TopoNamespace => ({
  id,
  kind: id === 'sandbox' ? 'sandbox' : id.startsWith('node:') ? 'node' : 'pod',
  label: id,
  links: links.map((name, i) => ({ index: i + 1, name, state: 'UP', mtu: 1500, addrs: [] })),
});
const topo = (seq: number, namespaces: TopoNamespace[]): Topology => ({ seq, at: seq, namespaces, tunnels: [] });

describe('topology diffs', () => {
  const a = topo(1, [ns('sandbox'), ns('node:node1'), ns('pod:web')]);

  it('carries only the namespace that changed, and applying it keeps the others as they were', () => {
    const b = topo(2, [a.namespaces[0]!, ns('node:node1', ['lo', 'eth0']), ns('pod:web')]);
    const d = diffTopology(a, b);
    expect(d).toMatchObject({ seq: 2, base: 1, remove: [] });
    expect(d.upsert.map((n) => n.id)).toEqual(['node:node1']);
    expect(d.order).toBeUndefined();
    const c = applyTopologyDiff(a, d);
    expect(c).toEqual(b);
    expect(c.namespaces[0]).toBe(a.namespaces[0]);
    expect(c.namespaces[2]).toBe(a.namespaces[2]);
  });

  it('a namespace added or removed sends the order, and the result is in it', () => {
    const b = topo(2, [ns('sandbox'), ns('node:node1'), ns('pod:api'), ns('pod:web')]);
    const d = diffTopology(a, b);
    expect(d.upsert.map((n) => n.id)).toEqual(['pod:api']);
    expect(d.order).toEqual(['sandbox', 'node:node1', 'pod:api', 'pod:web']);
    expect(applyTopologyDiff(a, d)).toEqual(b);
    const e = topo(3, [ns('sandbox'), ns('node:node1'), ns('pod:api')]);
    const d2 = diffTopology(b, e);
    expect(d2.remove).toEqual(['pod:web']);
    expect(applyTopologyDiff(applyTopologyDiff(a, d), d2)).toEqual(e);
  });

  it('refuses a diff from another seq (the receiver fetches the whole instead)', () => {
    const b = topo(5, [ns('sandbox')]);
    const d = diffTopology(topo(4, [ns('sandbox', [])]), b);
    expect(() => applyTopologyDiff(a, d)).toThrow('a topology diff from seq 4 does not apply to seq 1');
  });
});
