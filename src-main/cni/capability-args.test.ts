import { describe, expect, it } from 'vitest';
import { bandwidthFromAnnotations, goCniCapabilityArgs, MAX_UINT32 } from './capability-args.js';

describe('containerd 2.1 capability args', () => {
  it('writes go-cni structs with Go field names in declaration order, map keys sorted', () => {
    const args = goCniCapabilityArgs({
      annotations: { z: '1', a: '2' },
      portMappings: [
        { hostPort: 8080, containerPort: 80, protocol: 'TCP', hostIP: '' },
        { hostPort: 0, containerPort: 53, protocol: 'UDP', hostIP: '' },
      ],
      bandwidth: { ingressRate: 1000000, ingressBurst: MAX_UINT32, egressRate: 0, egressBurst: 0 },
      dns: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local'], options: [] },
      cgroupPath: '/kubepods/besteffort/pod1',
    });
    expect(JSON.stringify(args)).toBe(
      '{"bandwidth":{"IngressRate":1000000,"IngressBurst":4294967295,"EgressRate":0,"EgressBurst":0},' +
        '"cgroupPath":"/kubepods/besteffort/pod1",' +
        '"dns":{"Servers":["10.96.0.10"],"Searches":["default.svc.cluster.local"],"Options":null},' +
        '"io.kubernetes.cri.pod-annotations":{"a":"2","z":"1"},' +
        '"portMappings":[{"HostPort":8080,"ContainerPort":80,"Protocol":"tcp","HostIP":""}]}',
    );
  });

  it('always sends the annotations (null for none, as CRI decodes an empty map) and nothing else unasked', () => {
    expect(goCniCapabilityArgs({ annotations: {} })).toEqual({ 'io.kubernetes.cri.pod-annotations': null });
    expect(
      goCniCapabilityArgs({
        annotations: {},
        portMappings: [{ hostPort: 0, containerPort: 80, protocol: 'TCP', hostIP: '' }],
      }),
    ).not.toHaveProperty('portMappings');
  });

  it('reads bandwidth annotations as Kubernetes quantities of bits per second', () => {
    expect(bandwidthFromAnnotations({})).toBeUndefined();
    expect(bandwidthFromAnnotations({ 'kubernetes.io/ingress-bandwidth': '1M' })).toEqual({
      ingressRate: 1000000,
      ingressBurst: MAX_UINT32,
      egressRate: 0,
      egressBurst: 0,
    });
    expect(bandwidthFromAnnotations({ 'kubernetes.io/egress-bandwidth': '1Mi' })?.egressRate).toBe(1048576);
    expect(bandwidthFromAnnotations({ 'kubernetes.io/egress-bandwidth': '1.5k' })?.egressRate).toBe(1500);
    expect(bandwidthFromAnnotations({ 'kubernetes.io/egress-bandwidth': '10e3' })?.egressRate).toBe(10000);
    expect(bandwidthFromAnnotations({ 'kubernetes.io/egress-bandwidth': '1000.5' })?.egressRate).toBe(1001);
  });

  it('fails with containerd’s words on a bad or unreasonable quantity', () => {
    expect(() => bandwidthFromAnnotations({ 'kubernetes.io/ingress-bandwidth': '10' })).toThrow(
      'reading pod bandwidth annotations: resource is unreasonably small (< 1kbit)',
    );
    expect(() => bandwidthFromAnnotations({ 'kubernetes.io/ingress-bandwidth': '2P' })).toThrow(
      'resource is unreasonably large (> 1Pbit)',
    );
    expect(() => bandwidthFromAnnotations({ 'kubernetes.io/ingress-bandwidth': '1 Mbit' })).toThrow(
      "reading pod bandwidth annotations: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    );
    expect(() => bandwidthFromAnnotations({ 'kubernetes.io/ingress-bandwidth': '1MM' })).toThrow(
      "reading pod bandwidth annotations: unable to parse quantity's suffix",
    );
  });
});
