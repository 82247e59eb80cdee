import { describe, expect, it } from 'vitest';
import { desiredSlices, endpointOf, endpointPorts } from './endpointslice-controller.js';
import type { KubeObject } from './resources.js';

const svc = (spec: Record<string, unknown>): KubeObject => ({
  metadata: { name: 'web', namespace: 'default', uid: 's' },
  spec: { selector: { app: 'web' }, ipFamilies: ['IPv4'], ...spec },
});
const pod = (
  name: string,
  o: { ready?: boolean; ip?: string; deleting?: boolean; ports?: unknown[]; app?: string; phase?: string } = {},
): KubeObject => ({
  metadata: {
    name,
    namespace: 'default',
    uid: `u-${name}`,
    labels: { app: o.app ?? 'web' },
    ...(o.deleting ? { deletionTimestamp: '2026-12-04T00:00:00Z' } : {}),
  },
  spec: { nodeName: 'node1', containers: [{ name: 'c', ports: o.ports ?? [] }] },
  status: {
    phase: o.phase ?? 'Running',
    ...(o.ip === ''
      ? {}
      : { podIP: o.ip ?? `10.244.1.${name.length}`, podIPs: [{ ip: o.ip ?? `10.244.1.${name.length}` }] }),
    conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
  },
});

describe("the EndpointSlice controller's rules", () => {
  it('conditions: ready = Ready and not terminating, serving = Ready, terminating = deletionTimestamp', () => {
    const s = svc({ ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] });
    expect(endpointOf(s, pod('a'), 'IPv4')?.conditions).toEqual({ ready: true, serving: true, terminating: false });
    expect(endpointOf(s, pod('a', { ready: false }), 'IPv4')?.conditions).toEqual({
      ready: false,
      serving: false,
      terminating: false,
    });
    expect(endpointOf(s, pod('a', { deleting: true }), 'IPv4')?.conditions).toEqual({
      ready: false,
      serving: true,
      terminating: true,
    });
    // publishNotReadyAddresses: always ready and serving
    expect(
      endpointOf(svc({ publishNotReadyAddresses: true }), pod('a', { ready: false, deleting: true }), 'IPv4')
        ?.conditions,
    ).toEqual({
      ready: true,
      serving: true,
      terminating: true,
    });
    // no IP yet, or finished: no endpoint
    expect(endpointOf(s, pod('a', { ip: '' }), 'IPv4')).toBeUndefined();
    expect(endpointOf(s, pod('a', { phase: 'Succeeded' }), 'IPv4')).toBeUndefined();
    expect(endpointOf(s, pod('a'), 'IPv4')).toMatchObject({
      nodeName: 'node1',
      targetRef: { kind: 'Pod', name: 'a', uid: 'u-a' },
    });
  });

  it("resolves a named targetPort from the pod's containerPorts (a pod without it has no such port)", () => {
    const s = svc({
      ports: [
        { name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' },
        { name: 'raw', port: 81, targetPort: 9000, protocol: 'TCP' },
      ],
    });
    expect(endpointPorts(s, pod('a', { ports: [{ name: 'web', containerPort: 8080 }] }))).toEqual([
      { name: 'http', port: 8080, protocol: 'TCP' },
      { name: 'raw', port: 9000, protocol: 'TCP' },
    ]);
    expect(endpointPorts(s, pod('b'))).toEqual([{ name: 'raw', port: 9000, protocol: 'TCP' }]);
  });

  it('groups pods by port set, chunks 100 to a slice, keeps a placeholder when none match, ignores other labels', () => {
    const s = svc({ ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }] });
    expect(desiredSlices(s, [pod('x', { app: 'other' })])).toEqual([{ family: 'IPv4', ports: null, endpoints: null }]);
    const many = Array.from({ length: 150 }, (_, i) =>
      pod(`p${String(i).padStart(3, '0')}`, {
        ip: `10.244.${1 + (i >> 8)}.${i & 255}`,
        ports: [{ name: 'web', containerPort: 80 }],
      }),
    );
    const odd = pod('odd', { ports: [{ name: 'web', containerPort: 8080 }] });
    const slices = desiredSlices(s, [...many, odd]);
    expect(slices.map((x) => `${x.ports?.[0]?.port}:${x.endpoints?.length}`).sort()).toEqual([
      '8080:1',
      '80:100',
      '80:50',
    ]);
  });
});
