import { describe, expect, it } from 'vitest';
import { strategicMergePatch } from './strategic-merge.js';

describe('strategic merge patch', () => {
  it("merges a Service's ports by port, with kubectl apply's directives", () => {
    const svc = {
      spec: {
        selector: { app: 'web' },
        ports: [
          { name: 'a', port: 80, protocol: 'TCP', targetPort: 80 },
          { name: 'b', port: 81, protocol: 'TCP', targetPort: 81 },
        ],
      },
    };
    // what kubectl 1.36 sends for ports [a:8080, c:82] over [a:80, b:81]
    const patch = {
      spec: {
        '$setElementOrder/ports': [{ port: 8080 }, { port: 82 }],
        ports: [
          { name: 'a', port: 8080 },
          { name: 'c', port: 82 },
          { $patch: 'delete', port: 80 },
          { $patch: 'delete', port: 81 },
        ],
      },
    };
    expect(strategicMergePatch(svc, patch)).toEqual({
      spec: {
        selector: { app: 'web' },
        ports: [
          { name: 'a', port: 8080 },
          { name: 'c', port: 82 },
        ],
      },
    });
  });

  it('merges an element in place, keeps what the patch leaves, orders by $setElementOrder, deletes with null', () => {
    const o = {
      spec: {
        ports: [
          { port: 80, name: 'a', targetPort: 8080 },
          { port: 81, name: 'b' },
        ],
      },
      x: 1,
    };
    const p = {
      x: null,
      spec: { '$setElementOrder/ports': [{ port: 81 }, { port: 80 }], ports: [{ port: 80, name: 'z' }] },
    };
    expect(strategicMergePatch(o, p)).toEqual({
      spec: {
        ports: [
          { port: 81, name: 'b' },
          { port: 80, name: 'z', targetPort: 8080 },
        ],
      },
    });
  });

  it('replaces lists without a merge key, and honours $patch: replace and $retainKeys', () => {
    expect(
      strategicMergePatch({ spec: { tolerations: [{ key: 'a' }] } }, { spec: { tolerations: [{ key: 'b' }] } }),
    ).toEqual({
      spec: { tolerations: [{ key: 'b' }] },
    });
    expect(
      strategicMergePatch(
        { spec: { selector: { a: '1', b: '2' } } },
        { spec: { selector: { $patch: 'replace', c: '3' } } },
      ),
    ).toEqual({
      spec: { selector: { c: '3' } },
    });
    expect(strategicMergePatch({ s: { a: 1, b: 2 } }, { s: { $retainKeys: ['a'], a: 3 } })).toEqual({ s: { a: 3 } });
  });
});
