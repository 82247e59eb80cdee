// The protobuf body reader, on bodies captured from the real kubectl 1.36 (kubectl -v=9's "Request Body" dump)
// and on malformed ones: each gives the JSON object the JSON path would read, or a specific error.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeProtobufBody, ProtobufError, UnreadKindError } from './protobuf.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'protobuf');
const fixture = (name: string) => readFileSync(join(FIXTURES, `${name}.bin`));

/** A tiny protobuf writer for the hand-made bodies (varints and length-delimited fields only). */
const varint = (n: number | bigint): number[] => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v ? b | 0x80 : b);
  } while (v);
  return out;
};
const len = (num: number, bytes: number[] | string): number[] => {
  const b = typeof bytes === 'string' ? [...Buffer.from(bytes)] : bytes;
  return [...varint((num << 3) | 2), ...varint(b.length), ...b];
};
const int = (num: number, n: number | bigint): number[] => [...varint(num << 3), ...varint(n)];
const envelope = (apiVersion: string, kind: string, raw: number[]) =>
  Buffer.from([...Buffer.from('k8s\0', 'latin1'), ...len(1, [...len(1, apiVersion), ...len(2, kind)]), ...len(2, raw)]);

describe('decodeProtobufBody: bodies the real kubectl sent', () => {
  it('kubectl create service clusterip web --tcp=80:80', () => {
    expect(decodeProtobufBody(fixture('svc-clusterip'))).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        ports: [{ name: '80-80', protocol: 'TCP', port: 80, targetPort: 80 }],
        selector: { app: 'web' },
        type: 'ClusterIP',
      },
    });
  });

  it('kubectl create service nodeport np --tcp=8080:80 --node-port=30080: the nodePort is read (validation refuses it)', () => {
    expect(decodeProtobufBody(fixture('svc-nodeport'))).toMatchObject({
      kind: 'Service',
      spec: {
        ports: [{ name: '8080-80', protocol: 'TCP', port: 8080, targetPort: 80, nodePort: 30080 }],
        type: 'NodePort',
      },
    });
  });

  it('kubectl create service loadbalancer and externalname', () => {
    expect(decodeProtobufBody(fixture('svc-loadbalancer'))).toMatchObject({
      metadata: { name: 'lb' },
      spec: { ports: [{ port: 443, targetPort: 8443 }], type: 'LoadBalancer' },
    });
    expect(decodeProtobufBody(fixture('svc-externalname'))).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'ext', labels: { app: 'ext' } },
      spec: { selector: { app: 'ext' }, type: 'ExternalName', externalName: 'example.com' },
    });
  });

  it('kubectl create namespace x', () => {
    expect(decodeProtobufBody(fixture('namespace'))).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'x' },
    });
  });
});

describe('decodeProtobufBody: the other kinds the server stores (hand-made bodies, field numbers from generated.proto)', () => {
  it('a Pod: containers, a named targetPort-style IntOrString probe port, a negative int, a map, a Time', () => {
    const probe = [
      ...len(1, [...len(2, [...len(1, '/'), ...len(2, [...int(1, 1), ...len(3, 'http')])])]),
      ...int(4, 5),
    ];
    const container = [...len(1, 'c'), ...len(2, 'busybox'), ...len(3, 'sleep'), ...len(3, '1'), ...len(11, probe)];
    const meta = [...len(1, 'p'), ...len(11, [...len(1, 'app'), ...len(2, 'web')]), ...len(8, [...int(1, 1767225600)])];
    const raw = [...len(1, meta), ...len(2, [...len(2, container), ...int(4, -1)])];
    expect(decodeProtobufBody(envelope('v1', 'Pod', raw))).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', labels: { app: 'web' }, creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: {
        containers: [
          {
            name: 'c',
            image: 'busybox',
            command: ['sleep', '1'],
            readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 5 },
          },
        ],
        terminationGracePeriodSeconds: -1,
      },
    });
  });

  it('a field the model does not act on reads as present, so validation refuses it as in JSON', () => {
    const raw = [...len(1, len(1, 'p')), ...len(2, [...len(18, len(1, [1, 2])), ...len(2, len(1, 'c'))])];
    expect(decodeProtobufBody(envelope('v1', 'Pod', raw))).toMatchObject({ spec: { affinity: {} } });
  });

  it('an EndpointSlice (a pointer bool sent false stays false), a Node status and an Event', () => {
    const slice = [
      ...len(1, len(1, 'web-abc')),
      ...len(2, [...len(1, '10.244.1.3'), ...len(2, [...int(1, 1), ...int(3, 0)]), ...len(6, 'node1')]),
      ...len(3, [...len(1, 'http'), ...len(2, 'TCP'), ...int(3, 80)]),
      ...len(4, 'IPv4'),
    ];
    expect(decodeProtobufBody(envelope('discovery.k8s.io/v1', 'EndpointSlice', slice))).toEqual({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-abc' },
      endpoints: [{ addresses: ['10.244.1.3'], conditions: { ready: true, terminating: false }, nodeName: 'node1' }],
      ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
      addressType: 'IPv4',
    });
    const node = [
      ...len(1, len(1, 'node1')),
      ...len(3, [
        ...len(1, [...len(1, 'cpu'), ...len(2, len(1, '2'))]),
        ...len(4, [...len(1, 'Ready'), ...len(2, 'True'), ...len(5, 'KubeletReady')]),
      ]),
    ];
    expect(decodeProtobufBody(envelope('v1', 'Node', node))).toEqual({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node1' },
      status: { capacity: { cpu: '2' }, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
    });
    const event = [
      ...len(1, len(1, 'p.1')),
      ...len(2, [...len(1, 'Pod'), ...len(3, 'p')]),
      ...len(3, 'Scheduled'),
      ...int(8, 3),
      ...len(10, [...int(1, 1767225600), ...int(2, 123456789)]),
    ];
    expect(decodeProtobufBody(envelope('v1', 'Event', event))).toEqual({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: 'p.1' },
      involvedObject: { kind: 'Pod', name: 'p' },
      reason: 'Scheduled',
      count: 3,
      eventTime: '2026-01-01T00:00:00.123456Z',
    });
  });

  it('fields it has no number for are skipped, fixed32 and fixed64 included', () => {
    const raw = [...len(1, [...len(1, 'x'), ...len(99, 'later'), 0x7d, 1, 2, 3, 4, 0x79, 1, 2, 3, 4, 5, 6, 7, 8])];
    expect(decodeProtobufBody(envelope('v1', 'Namespace', raw))).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'x' },
    });
  });
});

describe('decodeProtobufBody: malformed bodies → the specific error', () => {
  const error = (body: Buffer) => {
    try {
      decodeProtobufBody(body);
    } catch (e) {
      return e as Error;
    }
    throw new Error('no error');
  };

  it('wrong magic', () => {
    const e = error(Buffer.from('{"kind":"Service"}'));
    expect(e).toBeInstanceOf(ProtobufError);
    expect(e.message).toBe(
      `the body does not start with Kubernetes' protobuf magic "k8s\\0" (it starts with 7b226b696e64223a)`,
    );
  });

  it('a truncated varint', () => {
    // the key of raw, then a length whose varint has its continuation bit set and no next byte
    const bare = error(Buffer.from([...Buffer.from('k8s\0', 'latin1'), 0x12, 0x80]));
    expect(bare).toBeInstanceOf(ProtobufError);
    expect(bare.message).toBe('runtime.Unknown.raw: truncated varint at offset 5 (the body ends at 6)');
  });

  it('a length past the end', () => {
    const body = fixture('namespace');
    const e = error(body.subarray(0, 30));
    expect(e).toBeInstanceOf(ProtobufError);
    expect(e.message).toBe(
      'runtime.Unknown.raw: length 25 at offset 22 runs past the end of its message (7 bytes left)',
    );
    const inner = error(envelope('v1', 'Service', [...len(1, [0x0a, 0x09, ...Buffer.from('web')])]));
    expect(inner.message).toBe('metadata.name: length 9 at offset 24 runs past the end of its message (3 bytes left)');
  });

  it('a wire type that does not match the field', () => {
    const e = error(envelope('v1', 'Service', [...len(2, int(3, 5))]));
    expect(e.message).toBe('spec.clusterIP (at offset 23): wire type 0, where its type is length-delimited (2)');
  });

  it("a time out of JSON's range", () => {
    const e = error(envelope('v1', 'Event', [...len(6, int(1, 2n ** 60n))]));
    expect(e).toBeInstanceOf(ProtobufError);
    expect(e.message).toBe(`firstTimestamp: ${2 ** 60} seconds is not a time JSON can hold`);
  });

  it('a kind with no table', () => {
    const e = error(envelope('apps/v1', 'Deployment', []));
    expect(e).toBeInstanceOf(UnreadKindError);
    expect(e.message).toMatch(
      /reads protobuf bodies of Service, Namespace, Pod, Event, Node, EndpointSlice, Binding, not Deployment \(apps\/v1\): send it as JSON/,
    );
  });
});
