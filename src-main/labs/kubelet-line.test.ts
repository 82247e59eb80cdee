// The kubelet line's pod fields, and the PodSpec a lab's pod becomes (what the runtime turns into
// containerd's portMappings and bandwidth capability args, and hostNetwork).
import { describe, expect, it } from 'vitest';
import { podSpecOf, POD_CONTAINERS } from '../session/world-spec.js';
import { LabFile } from './format.js';
import { parseKubeletLine } from './kubelet-line.js';

describe('kubelet lines', () => {
  it('reads syncPod with and without fields, and killPod', () => {
    expect(parseKubeletLine('syncPod web node1')).toEqual({ kind: 'syncPod', name: 'web', node: 'node1', fields: {} });
    expect(parseKubeletLine('killPod web')).toEqual({ kind: 'killPod', name: 'web' });
    const l = parseKubeletLine(
      'syncPod web node1 {annotations: {kubernetes.io/ingress-bandwidth: 1M}, containers: [{name: httpd, ports: [{containerPort: 80, hostPort: 8080}]}]}',
    );
    expect(l).toEqual({
      kind: 'syncPod',
      name: 'web',
      node: 'node1',
      fields: {
        annotations: { 'kubernetes.io/ingress-bandwidth': '1M' },
        containers: [{ name: 'httpd', ports: [{ containerPort: 80, hostPort: 8080 }] }],
      },
    });
    expect(parseKubeletLine('syncPod installer node1 {hostNetwork: true}')).toMatchObject({
      fields: { hostNetwork: true },
    });
  });

  it('says what is wrong with a line, naming the pod so the lab can still refer to it', () => {
    expect(parseKubeletLine('syncPod web')).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('"syncPod NAME NODE"'),
    });
    expect(parseKubeletLine('syncPod web node1 {containers: [{name: a, ports: [{containerPort: 0}]}]}')).toEqual({
      kind: 'invalid',
      name: 'web',
      message: 'pod web: containers.0.ports.0.containerPort: containerPort is a port number, 1 to 65535',
    });
    expect(parseKubeletLine('syncPod web node1 {annotations: {kubernetes.io/egress-bandwidth: "100"}}')).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('resource is unreasonably small (< 1kbit)'),
    });
    expect(parseKubeletLine('syncPod web node1 {hostnetwork: true}')).toMatchObject({
      kind: 'invalid',
      message: 'pod web: unknown field "hostnetwork"',
    });
    expect(parseKubeletLine('syncPod web node1 {protocol: [}')).toMatchObject({
      kind: 'invalid',
      message: expect.stringContaining('are not YAML'),
    });
    expect(
      parseKubeletLine('syncPod web node1 {containers: [{name: a, ports: [{containerPort: 80, protocol: tcp}]}]}'),
    ).toMatchObject({ message: expect.stringContaining('protocol is TCP, UDP or SCTP') });
  });
});

describe('a lab pod as the kubelet gets it', () => {
  it('fills in the default container and command, keeps ports, annotations and hostNetwork', () => {
    expect(podSpecOf({ name: 'a', node: 'node1' })).toEqual({ name: 'a', node: 'node1', containers: POD_CONTAINERS });
    expect(
      podSpecOf({
        name: 'a',
        node: 'node1',
        containers: [{ name: 'web', ports: [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }] }],
        annotations: { 'kubernetes.io/egress-bandwidth': '2M' },
        hostNetwork: true,
      }),
    ).toEqual({
      name: 'a',
      node: 'node1',
      containers: [
        {
          name: 'web',
          command: POD_CONTAINERS[0]!.command,
          ports: [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }],
        },
      ],
      annotations: { 'kubernetes.io/egress-bandwidth': '2M' },
      hostNetwork: true,
    });
  });

  it("defaults a lab's loopback to the plugin, containerd's default", () => {
    const f = LabFile.parse({
      title: 't',
      summary: 's',
      level: 'beginner',
      duration: 1,
      world: { nodes: 1 },
      steps: ['a.md'],
    });
    expect(f.world.loopback).toBe('plugin');
  });

  it('refuses two containers publishing the same hostPort, and a hostNetwork hostPort unlike its containerPort', () => {
    const two = parseKubeletLine(
      'syncPod web node1 {containers: [{name: a, ports: [{containerPort: 80, hostPort: 8080}]}, {name: b, ports: [{containerPort: 81, hostPort: 8080}]}]}',
    );
    expect(two).toMatchObject({
      message: 'pod web: containers.1.ports.0.hostPort: hostPort 8080/TCP is already published by container a',
    });
    expect(
      parseKubeletLine(
        'syncPod web node1 {hostNetwork: true, containers: [{name: a, ports: [{containerPort: 80, hostPort: 80}]}]}',
      ),
    ).toMatchObject({ kind: 'syncPod' });
  });
});
