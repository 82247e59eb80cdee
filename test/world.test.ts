// The lab world itself: nodes with their own files at a real node's paths, the underlay, exec targets,
// and a destroy that leaves nothing on the host.
import { existsSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { hostDiff, hostSnapshot } from '../src-main/runtime/leaks.js';
import { hostPluginDirs } from '../src-main/world/paths.js';
import { createWorld, WorldError } from '../src-main/world/world.js';
import { addPlugin, withWorld, writeConf } from './helpers.js';

describe('a world', () => {
  it('gives each node its own /etc/cni/net.d, /opt/cni/bin, /var/lib/cni, /run/netns and hostname', () =>
    withWorld(2, async (w) => {
      writeConf(w, 'node1', '10-only-on-node1.conflist', '{}');
      const ls = (node: string, path: string) =>
        w.run({ kind: 'node', node }, ['ls', '-1', path]).then((s) => s.split('\n').filter(Boolean));
      expect(await ls('node1', '/etc/cni/net.d')).toEqual(['10-only-on-node1.conflist']);
      expect(await ls('node2', '/etc/cni/net.d')).toEqual([]);
      // the real plugins are visible; a plugin a lab adds on node1 is node1's alone, and the host's folder is untouched
      const hostPlugins = readdirSync(hostPluginDirs()[0]!);
      expect(await ls('node1', '/opt/cni/bin')).toEqual(
        expect.arrayContaining(['bridge', 'host-local', 'loopback', 'portmap']),
      );
      await addPlugin(w, 'node1', 'my-plugin', '#!/bin/sh\necho hi\n');
      expect(await ls('node1', '/opt/cni/bin')).toContain('my-plugin');
      expect(await ls('node2', '/opt/cni/bin')).not.toContain('my-plugin');
      expect(readdirSync(hostPluginDirs()[0]!)).toEqual(hostPlugins);
      await w.run({ kind: 'node', node: 'node1' }, ['ip', 'netns', 'add', 'demo']);
      expect(await ls('node1', '/run/netns')).toEqual(['demo']);
      expect(await ls('node2', '/run/netns')).toEqual([]);
      expect((await w.run({ kind: 'node', node: 'node2' }, ['hostname'])).trim()).toBe('node2');
      expect((await w.run({ kind: 'node', node: 'node1' }, ['sh', '-c', 'echo $PODNET_NODE'])).trim()).toBe('node1');
    }));

  it('wires nodes by an underlay in the documentation range, and runs commands in the sandbox, a node or a pod', () =>
    withWorld(2, async (w) => {
      expect(w.node('node1').underlayIp).toBe('192.0.2.11');
      const ping = await w.exec({ kind: 'node', node: 'node1' }, ['ping', '-c', '1', '-W', '2', '192.0.2.12']);
      expect(ping.code, ping.stdout + ping.stderr).toBe(0);
      const sandboxLinks = await w.run({ kind: 'sandbox' }, ['ip', '-o', 'link', 'show', 'master', 'underlay0']);
      expect(sandboxLinks).toMatch(/u-node1/);
      expect(sandboxLinks).toMatch(/u-node2/);
      // the sandbox is PID 1's world: only its own processes are visible
      const ps = await w.run({ kind: 'sandbox' }, ['ps', '-e', '-o', 'pid=,comm=']);
      expect(ps.trim().split('\n')[0]!.trim()).toMatch(/^1 world-init$/);
      await w.run({ kind: 'node', node: 'node1' }, ['ip', 'netns', 'add', 'p1']);
      const pod = await w.run({ kind: 'pod', node: 'node1', netns: '/run/netns/p1' }, ['ip', '-o', 'link']);
      expect(pod.trim().split('\n')).toHaveLength(1);
      expect(pod).toMatch(/1: lo: <LOOPBACK> .* state DOWN/);
    }));

  it('says clearly what is wrong: a missing command, an unknown node, a netns that is not there', () =>
    withWorld(1, async (w) => {
      await expect(w.exec({ kind: 'node', node: 'node1' }, ['no-such-command'])).rejects.toThrow(
        expect.objectContaining({
          name: 'WorldInitError',
          errno: 2,
          message: 'exec no-such-command: No such file or directory',
        }),
      );
      expect(() => w.placement({ kind: 'node', node: 'node9' })).toThrow(
        'no node "node9" in this world (nodes: node1)',
      );
      await expect(w.exec({ kind: 'pod', node: 'node1', netns: '/run/netns/gone' }, ['true'])).rejects.toThrow(
        'open namespace /run/netns/gone: No such file or directory',
      );
      const r = await w.exec({ kind: 'node', node: 'node1' }, ['sh', '-c', 'echo out; echo err >&2; exit 3']);
      expect([r.code, r.stdout, r.stderr]).toEqual([3, 'out\n', 'err\n']);
      const t = await w.exec({ kind: 'node', node: 'node1' }, ['sleep', '30'], { timeoutMs: 200 });
      expect([t.timedOut, t.signal]).toEqual([true, 9]);
    }));

  it('rejects bad node lists before making anything', async () => {
    await expect(createWorld({ nodes: ['Node1'] })).rejects.toThrow(WorldError);
    await expect(createWorld({ nodes: ['a', 'a'] })).rejects.toThrow('node names must be unique');
    await expect(createWorld({ nodes: 0 })).rejects.toThrow('a world has 1 to 200 nodes, not 0');
  });

  it('destroy ends every process, namespace and mount, removes its state, and leaves the host as it was', async () => {
    const w = await createWorld({ nodes: 3 });
    const before = hostSnapshot(w.id);
    await w.run({ kind: 'node', node: 'node2' }, ['ip', 'netns', 'add', 'x']);
    const long = w.spawn({ kind: 'node', node: 'node3' }, ['sleep', '1000']);
    await long.started;
    expect(hostSnapshot(w.id).processes.length).toBeGreaterThan(0);
    const outer = w.outerPid!;
    await w.destroy();
    expect((await long.exited).signal).toBe(9);
    expect(() => process.kill(outer, 0)).toThrow();
    expect(existsSync(w.stateDir)).toBe(false);
    expect(hostDiff(before, hostSnapshot(w.id))).toEqual([]);
    await expect(w.exec({ kind: 'sandbox' }, ['true'])).rejects.toThrow('this world has ended');
  });
});
