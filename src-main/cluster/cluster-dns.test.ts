import { describe, expect, it } from 'vitest';
import { answer, ClusterNames } from './cluster-dns.js';

function query(name: string, type = 1, edns = false): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const opt = edns ? Buffer.from([0, 0, 41, 0x10, 0x00, 0, 0, 0, 0, 0, 0]) : Buffer.alloc(0);
  return Buffer.concat([
    Buffer.from([0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, edns ? 1 : 0]),
    ...labels,
    Buffer.from([0, 0, type, 0, 1]),
    opt,
  ]);
}

const names = new ClusterNames();
names.apply({ kind: 'Namespace', type: 'ADDED', object: { metadata: { name: 'default' } } });
names.apply({
  kind: 'Service',
  type: 'ADDED',
  object: { metadata: { name: 'web', namespace: 'default' }, spec: { clusterIP: '10.96.5.6' } },
});
names.apply({
  kind: 'Service',
  type: 'ADDED',
  object: { metadata: { name: 'hl', namespace: 'default' }, spec: { clusterIP: 'None' } },
});
names.apply({
  kind: 'EndpointSlice',
  type: 'ADDED',
  object: {
    metadata: { name: 'hl-x', namespace: 'default', labels: { 'kubernetes.io/service-name': 'hl' } },
    addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.244.1.2'], conditions: { ready: true } },
      { addresses: ['10.244.1.3'], conditions: { ready: false } },
    ],
  },
});

describe('the cluster DNS stand-in', () => {
  it('answers a Service name with its ClusterIP: id, QR|AA|RD, NOERROR, one A record with TTL 5', () => {
    const r = answer(query('web.default.svc.cluster.local'), names)!;
    expect(r.readUInt16BE(0)).toBe(0xabcd);
    expect(r.readUInt16BE(2)).toBe(0x8500);
    expect(r.readUInt16BE(6)).toBe(1);
    expect([...r.subarray(-4)].join('.')).toBe('10.96.5.6');
    expect(r.readUInt32BE(r.length - 10)).toBe(5);
  });

  it('case-insensitive; a headless Service answers its ready endpoints; a pod name its address', () => {
    expect([...answer(query('WEB.Default.svc.cluster.local'), names)!.subarray(-4)].join('.')).toBe('10.96.5.6');
    const hl = answer(query('hl.default.svc.cluster.local'), names)!;
    expect(hl.readUInt16BE(6)).toBe(1);
    expect([...hl.subarray(-4)].join('.')).toBe('10.244.1.2');
    expect([...answer(query('10-244-1-9.default.pod.cluster.local'), names)!.subarray(-4)].join('.')).toBe(
      '10.244.1.9',
    );
  });

  it('NXDOMAIN with the SOA for unknown names in the zone; NXDOMAIN without it outside; NODATA for AAAA', () => {
    const nx = answer(query('nope.default.svc.cluster.local'), names)!;
    expect(nx.readUInt16BE(2) & 0xf).toBe(3);
    expect(nx.readUInt16BE(8)).toBe(1);
    const out = answer(query('example.com'), names)!;
    expect(out.readUInt16BE(2) & 0xf).toBe(3);
    expect(out.readUInt16BE(8)).toBe(0);
    const aaaa = answer(query('web.default.svc.cluster.local', 28), names)!;
    expect(aaaa.readUInt16BE(2) & 0xf).toBe(0);
    expect(aaaa.readUInt16BE(6)).toBe(0);
    // the search path's longer forms are not names here
    expect(answer(query('web.default.svc.cluster.local.default.svc.cluster.local'), names)!.readUInt16BE(2) & 0xf).toBe(
      3,
    );
    // a namespace exists, with no address
    expect(answer(query('default.svc.cluster.local'), names)!.readUInt16BE(2) & 0xf).toBe(0);
  });

  it('echoes EDNS, refuses garbage with FORMERR, ignores responses and runts', () => {
    const r = answer(query('web.default.svc.cluster.local', 1, true), names)!;
    expect(r.readUInt16BE(10)).toBe(1);
    expect(answer(Buffer.from([1, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 63]), names)!.readUInt16BE(2) & 0xf).toBe(1);
    expect(answer(Buffer.from([1, 2, 0x81, 0, 0, 1, 0, 0, 0, 0, 0, 0]), names)).toBeUndefined();
    expect(answer(Buffer.from([1, 2]), names)).toBeUndefined();
  });

  it('follows a Service deleted', () => {
    const n = new ClusterNames();
    const o = { metadata: { name: 'a', namespace: 'default' }, spec: { clusterIP: '10.96.0.20' } };
    n.apply({ kind: 'Service', type: 'ADDED', object: o });
    expect(n.resolve('a.default.svc.cluster.local', 1).addresses).toEqual(['10.96.0.20']);
    n.apply({ kind: 'Service', type: 'DELETED', object: o });
    expect(n.resolve('a.default.svc.cluster.local', 1).rcode).toBe(3);
  });
});
