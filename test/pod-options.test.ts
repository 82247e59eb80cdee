// The app's pod form options through the engine, against a real world: a hostPort becomes portmap's
// DNAT (containerd's portMappings), hostNetwork runs in the node's namespace, a bandwidth annotation
// containerd refuses fails the pod with containerd's words, and the timeline's create takes the same.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src-main/engine/engine.js';
import { TerminalService } from '../src-main/terminal/terminal-service.js';
import type { World } from '../src-main/world/world.js';

let engine: Engine;
let world: World;

beforeAll(async () => {
  engine = createEngine({ terminals: (w, r) => new TerminalService(w, r) });
  await engine.api['world.start']({ nodes: 1 });
  world = engine.session.runningWorld!;
}, 60_000);
afterAll(async () => {
  await engine?.dispose();
});

const nat = async () => world.run({ kind: 'node', node: 'node1' }, ['iptables', '-t', 'nat', '-S']);

describe('pod options from the pod form', () => {
  it('a hostPort: portmap DNATs the node port to the pod port 80, and node1 reaches the pod on it', async () => {
    const pod = await engine.api['pod.create']({ name: 'web', node: 'node1', hostPort: 8080 });
    expect(await nat()).toContain(`--dport 8080 -j DNAT --to-destination ${pod.ip}:80`);
    // StartContainer returns once the container's process runs (as containerd's does), not once httpd
    // listens: a client that comes that soon is refused, as it would be on a real node, so it tries again
    const get = () =>
      world
        .exec({ kind: 'node', node: 'node1' }, [
          'sh',
          '-c',
          "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | busybox nc -w 2 192.0.2.11 8080 | head -1",
        ])
        .then((r) => r.stdout);
    await expect.poll(get, { timeout: 5000, interval: 100 }).toMatch(/^HTTP\/1\.[01] /);
  });

  it('hostNetwork: the pod has the node address and no netns of its own', async () => {
    const pod = await engine.api['pod.create']({ name: 'host', node: 'node1', hostNetwork: true });
    expect(pod.netns).toBe('');
    expect(pod.ip).toBe('192.0.2.11');
  });

  it('refuses a hostNetwork hostPort unlike the container port, and fails a bandwidth containerd refuses', async () => {
    await expect(
      engine.api['pod.create']({ name: 'bad', node: 'node1', hostNetwork: true, hostPort: 8081 }),
    ).rejects.toThrow('with hostNetwork the hostPort must equal the containerPort (80), not 8081');
    await expect(
      engine.api['pod.create']({
        name: 'slow',
        node: 'node1',
        annotations: { 'kubernetes.io/ingress-bandwidth': '10mbit' },
      }),
    ).rejects.toThrow(/reading pod bandwidth annotations: quantities must match/);
  });

  it('the timeline creates the same pod', async () => {
    await engine.api['timeline.createPod']({
      name: 'tl',
      node: 'node1',
      hostPort: 9090,
      stepThrough: false,
    });
    for (let i = 0; i < 100 && !/--dport 9090 -j DNAT/.test(await nat()); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await nat()).toMatch(/--dport 9090 -j DNAT --to-destination 10\.244\.1\.\d+:80/);
  });
});
