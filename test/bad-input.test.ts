// Bad input gets a specific error, and changes or leaks nothing.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { confListFromText } from '../src-main/cni/conf.js';
import { ExecError, PluginError } from '../src-main/cni/errors.js';
import { CriError, failedCleanupOf } from '../src-main/runtime/containerd.js';
import { Kubelet } from '../src-main/runtime/kubelet.js';
import { settledPodLeftovers } from '../src-main/runtime/leaks.js';
import { Trace } from '../src-main/runtime/trace.js';
import {
  addPlugin,
  bridgePlugin,
  expectClean,
  failure,
  podRun,
  withWorld,
  writeConf,
  writeDefaultConf,
} from './helpers.js';

const list = (plugins: unknown[], extra: Record<string, unknown> = {}) => ({
  cniVersion: '1.0.0',
  name: 'podnet',
  plugins,
  ...extra,
});

describe('broken configuration', () => {
  it('invalid JSON: the node is NotReady with the file, line and column, and no pod starts', () =>
    withWorld(1, async (w) => {
      writeConf(
        w,
        'node1',
        '10-podnet.conflist',
        '{\n  "cniVersion": "1.0.0",\n  "name": "podnet",\n  "plugins": [ { "type": "bridge" }, ]\n}\n',
      );
      const k = new Kubelet(w);
      const ready = k.nodeNetworkReady('node1');
      expect(ready).toMatchObject({ status: false, reason: 'NetworkPluginNotReady' });
      expect(ready.message).toContain(
        '/etc/cni/net.d/10-podnet.conflist:4:36: invalid JSON: trailing comma: JSON allows no comma after the last element',
      );
      const e = await failure(k.syncPod({ name: 'web', node: 'node1' }));
      expect(e.message).toMatch(
        /^node node1 is NotReady: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady/,
      );
      await expectClean(w);
    }));

  it('an invalid file sorted first is reported, and the first valid file is the pod network', () =>
    withWorld(1, async (w) => {
      writeConf(w, 'node1', '05-broken.conf', '{"cniVersion": "1.0.0", "name": "x"}');
      writeDefaultConf(w);
      writeConf(w, 'node1', '99-later.conflist', list([bridgePlugin('10.9.0.0/24')], { name: 'later' }));
      const k = new Kubelet(w);
      const st = k.runtime('node1').status();
      expect(st.network).toBe('podnet');
      expect(st.configFiles).toEqual([
        {
          file: '/etc/cni/net.d/05-broken.conf',
          error: 'the configuration has no "type": the runtime cannot know which plugin binary to run',
        },
        { file: '/etc/cni/net.d/10-podnet.conflist' },
        { file: '/etc/cni/net.d/99-later.conflist' },
      ]);
      const pod = await k.syncPod({ name: 'web', node: 'node1' });
      expect(pod.ip).toMatch(/^10\.244\.1\./);
      await k.killAll();
    }));

  it('no config at all: NotReady, "cni plugin not initialized"', () =>
    withWorld(1, async (w) => {
      const ready = new Kubelet(w).nodeNetworkReady('node1');
      expect(ready.status).toBe(false);
      expect(ready.message).toBe(
        'Network plugin returns error: cni plugin not initialized: no valid network config found in /etc/cni/net.d',
      );
    }));

  it('unknown plugin type: the node is NotReady naming the binary, and the executor names the type and where it looked', () =>
    withWorld(1, async (w) => {
      writeConf(w, 'node1', '10-podnet.conflist', list([{ type: 'no-such-plugin' }]));
      const k = new Kubelet(w);
      expect(k.nodeNetworkReady('node1').message).toContain('plugin binary "no-such-plugin" not found in /opt/cni/bin');
      const rt = k.runtime('node1');
      const l = confListFromText(JSON.stringify(list([{ type: 'no-such-plugin' }])));
      const e = await failure(
        rt.cni.addNetworkList(l, {
          containerId: 'c1',
          netns: '/run/netns/none',
          ifName: 'eth0',
          args: [],
          capabilityArgs: {},
        }),
      );
      expect(e).toBeInstanceOf(ExecError);
      expect(e.message).toMatch(
        /^failed to find plugin "no-such-plugin" in path \[\/opt\/cni\/bin\]: no executable "\/opt\/cni\/bin" entry on node1 \(it shows the host's .*cni/,
      );
      await expectClean(w);
    }));

  it('missing ipam: no pod IP, a specific error, and the undo DELs what bridge made and removes the netns', () =>
    withWorld(1, async (w) => {
      writeConf(w, 'node1', '10-podnet.conflist', list([{ type: 'bridge', bridge: 'cni0' }]));
      const k = new Kubelet(w);
      const t = new Trace();
      const e = await failure(k.syncPod({ name: 'web', node: 'node1' }, t));
      // bridge without IPAM wires L2 only; containerd then finds no IP on eth0
      expect(e).toBeInstanceOf(CriError);
      expect(e.message).toMatch(
        /^failed to find network info for sandbox "[0-9a-f]{64}": the CNI result has no IP on interface eth0$/,
      );
      const undos = t.events.filter((x) => x.undo).map((x) => x.name);
      expect(undos).toEqual([
        'undo: teardown pod network (CNI DEL)',
        'undo: remove network namespace',
        'undo: release sandbox name',
      ]);
      expect(t.events.some((x) => x.name === 'bridge DEL')).toBe(true);
      await expectClean(w);
      // The name was released: the pod can be created once the config is fixed. (bridge 1.1.1 cannot turn the
      // L2-only cni0 it left into a gateway: "could not set bridge's mac", so it goes first, as a learner would do.)
      await w.run({ kind: 'node', node: 'node1' }, ['ip', 'link', 'delete', 'cni0']);
      writeDefaultConf(w);
      await k.syncPod({ name: 'web', node: 'node1' });
      await k.killAll();
    }));

  it("cniVersion newer than the plugins speak: the plugin's own error, verbatim, with the meaning of code 1", () =>
    withWorld(1, async (w) => {
      writeConf(w, 'node1', '10-podnet.conflist', list([bridgePlugin('10.244.1.0/24')], { cniVersion: '1.1.0' }));
      const k = new Kubelet(w);
      const e = await failure(k.syncPod({ name: 'web', node: 'node1' }));
      expect(e).toBeInstanceOf(PluginError);
      const pe = e as PluginError;
      expect(pe.code).toBe(1);
      expect(pe.msg).toBe('incompatible CNI versions');
      expect(pe.details).toMatch(/config is "1\.1\.0", plugin supports \[.*"1\.0\.0"\]/);
      expect(pe.message).toMatch(
        /^plugin bridge failed ADD \(code 1: Incompatible CNI version\): incompatible CNI versions/,
      );
      await expectClean(w);
    }));
});

describe('exhaustion and duplicates', () => {
  it('a /30 subnet runs out: the pod that finds no address fails clearly, and the first stays healthy', () =>
    withWorld(1, async (w) => {
      writeConf(w, 'node1', '10-podnet.conflist', list([bridgePlugin('10.250.0.0/30')]));
      const k = new Kubelet(w);
      // .0 network, .1 gateway, .3 broadcast: a /30 has room for one pod
      const first = await k.syncPod({ name: 'a', node: 'node1' });
      expect(first.ip).toBe('10.250.0.2');
      const results = await Promise.allSettled([
        k.syncPod({ name: 'b', node: 'node1' }),
        k.syncPod({ name: 'c', node: 'node1' }),
      ]);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        const e = (r as PromiseRejectedResult).reason as PluginError;
        expect(e).toBeInstanceOf(PluginError);
        expect(e.message).toMatch(/no IP addresses available in range set: 10\.250\.0\.1-10\.250\.0\.2/);
      }
      const ping = await podRun(w, 'node1', first.netns, 'ping -c 1 -W 2 10.250.0.1');
      expect(ping.code, ping.stdout).toBe(0);
      expect(k.pods.size).toBe(1);
      // Only the first pod's veth and reservation exist.
      const veths = JSON.parse(
        await w.run({ kind: 'node', node: 'node1' }, ['ip', '-json', 'link', 'show', 'type', 'veth']),
      ) as { ifname: string }[];
      expect(veths.filter((v) => v.ifname !== 'eth0')).toHaveLength(1);
      await k.killAll();
      await expectClean(w);
    }));

  it("a duplicate sandbox name is refused by containerd's name reservation", () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const rt = new Kubelet(w).runtime('node1');
      const cfg = { name: 'web', namespace: 'default', uid: 'u1' };
      const id = await rt.runPodSandbox(cfg, new Trace());
      const e = await failure(rt.runPodSandbox(cfg, new Trace()));
      expect(e).toMatchObject({ grpcCode: 'AlreadyExists' });
      expect(e.message).toBe(
        `failed to reserve sandbox name "web_default_u1_0": name "web_default_u1_0" is reserved for "${id}"`,
      );
      await rt.removePodSandbox(id, new Trace());
      await expectClean(w);
    }));
});

describe('misbehaving plugins', () => {
  it('a hanging plugin is killed after the timeout, and the plugins before it are DELeted', () =>
    withWorld(1, async (w) => {
      await addPlugin(w, 'node1', 'hang', '#!/bin/sh\ncat >/dev/null\n[ "$CNI_COMMAND" = ADD ] && sleep 60\nexit 0\n');
      writeConf(w, 'node1', '10-podnet.conflist', list([bridgePlugin('10.244.1.0/24'), { type: 'hang' }]));
      const k = new Kubelet(w, { pluginTimeoutMs: 800 });
      const t0 = Date.now();
      const e = await failure(k.syncPod({ name: 'web', node: 'node1' }));
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(e).toBeInstanceOf(ExecError);
      expect(e.message).toBe('plugin hang did not finish ADD within 800 ms and was killed');
      await expectClean(w);
    }));

  it('a plugin that hangs on DEL too: the undo fails, kubelet kills the failed sandbox, and the IP reservation leaks, as in containerd', () =>
    withWorld(1, async (w) => {
      await addPlugin(w, 'node1', 'hang', '#!/bin/sh\ncat >/dev/null\nsleep 60\n');
      writeConf(w, 'node1', '10-podnet.conflist', list([bridgePlugin('10.244.1.0/24'), { type: 'hang' }]));
      const k = new Kubelet(w, { pluginTimeoutMs: 400 });
      const t = new Trace();
      const e = await failure(k.syncPod({ name: 'web', node: 'node1' }, t));
      expect(e.message).toBe('plugin hang did not finish ADD within 400 ms and was killed');
      expect(failedCleanupOf(e)?.cleanupError.message).toBe(
        'plugin hang did not finish DEL within 400 ms and was killed',
      );
      // the undo stopped at the failed DEL (cleanupErr), so the netns was not removed by it...
      expect(t.events.filter((x) => x.undo).map((x) => [x.name, !!x.error])).toEqual([
        ['undo: teardown pod network (CNI DEL)', true],
      ]);
      // ...and kubelet's StopPodSandbox finished: DEL errors ignored (setup never completed), netns removed.
      const kill = t.events.find((x) => x.name === 'kill failed sandbox')!;
      expect(kill.error).toBeUndefined();
      expect(k.runtime('node1').listPodSandbox()).toEqual([]);
      // What leaks is the reservation host-local made in bridge's ADD: DEL never reached bridge.
      // (the veth goes with the netns, which the kernel destroys asynchronously)
      const left = (await settledPodLeftovers(w, 'node1')).items;
      expect(left).toHaveLength(1);
      expect(left[0]).toMatch(/^IP reservation podnet\/10\.244\.1\.2 /);
    }));

  it('a plugin printing garbage gets a clear error', () =>
    withWorld(1, async (w) => {
      await addPlugin(w, 'node1', 'garbage', '#!/bin/sh\necho "hello, I am not JSON"\n');
      writeConf(w, 'node1', '10-podnet.conflist', list([{ type: 'garbage' }]));
      const e = await failure(new Kubelet(w).syncPod({ name: 'web', node: 'node1' }));
      expect(e).toBeInstanceOf(ExecError);
      expect(e.message).toBe('plugin garbage printed output that is not JSON during ADD: "hello, I am not JSON"');
      await expectClean(w);
    }));

  it('a plugin failing mid-chain: its error verbatim, earlier plugins DELeted in reverse, the IP released', () =>
    withWorld(1, async (w) => {
      await addPlugin(
        w,
        'node1',
        'fail',
        '#!/bin/sh\ncat >/dev/null\nif [ "$CNI_COMMAND" = ADD ]; then echo \'{"cniVersion":"1.0.0","code":101,"msg":"boom","details":"it broke"}\'; exit 1; fi\n',
      );
      writeConf(
        w,
        'node1',
        '10-podnet.conflist',
        list([
          bridgePlugin('10.244.1.0/24'),
          { type: 'portmap', capabilities: { portMappings: true } },
          { type: 'fail' },
        ]),
      );
      const t = new Trace();
      const e = await failure(new Kubelet(w).syncPod({ name: 'web', node: 'node1' }, t));
      expect(e).toBeInstanceOf(PluginError);
      expect(e.message).toBe('plugin fail failed ADD (code 101: Plugin-specific error): boom (it broke)');
      const execs = t.events
        .filter((x) => x.component === 'cni' && / (ADD|DEL)$/.test(x.name) && !x.name.startsWith('CNI'))
        .map((x) => x.name);
      expect(execs).toEqual(['bridge ADD', 'portmap ADD', 'fail ADD', 'fail DEL', 'portmap DEL', 'bridge DEL']);
      expect(
        readdirSync(join(w.node('node1').host.dataDir, 'networks', 'podnet')).filter((f) => /^\d/.test(f)),
      ).toEqual([]);
      await expectClean(w);
    }));

  it('a plugin not written yet (text file busy) is retried', () =>
    withWorld(1, async (w) => {
      // a plugin that is still open for writing: exec gives ETXTBSY until the writer closes it
      const writer = w.spawn({ kind: 'node', node: 'node1' }, [
        'sh',
        '-c',
        'exec 3>/opt/cni/bin/slow; printf "#!/bin/sh\\necho \'{\\"cniVersion\\":\\"1.0.0\\",\\"supportedVersions\\":[\\"1.0.0\\"]}\'\\n" >&3; chmod 755 /opt/cni/bin/slow; sleep 0.5; exec 3>&-',
      ]);
      await writer.started;
      await new Promise((r) => setTimeout(r, 150));
      const v = await new Kubelet(w).runtime('node1').cni.getVersionInfo('slow');
      expect(v.supportedVersions).toEqual(['1.0.0']);
      await writer.exited;
    }));
});

describe('DEL is idempotent', () => {
  it('DEL of an unknown pod succeeds, and StopPodSandbox of an unknown sandbox is a no-op', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const rt = new Kubelet(w).runtime('node1');
      const l = rt.loadNetworkConfig().network!;
      await rt.cni.delNetworkList(l, {
        containerId: 'never-added',
        netns: '',
        ifName: 'eth0',
        args: [],
        capabilityArgs: {},
      });
      await rt.stopPodSandbox('0'.repeat(64), new Trace());
      await expectClean(w);
    }));

  it('a netns removed before DEL: DEL runs with an empty CNI_NETNS and still releases the IP', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const k = new Kubelet(w);
      const pod = await k.syncPod({ name: 'web', node: 'node1' });
      await w.run({ kind: 'node', node: 'node1' }, ['ip', 'netns', 'delete', pod.netns.split('/').pop()!]);
      const t = new Trace();
      await k.killPod('web', 'default', t);
      const del = t.events.find((x) => x.name === 'bridge DEL')!;
      expect((del.inputs!.env as Record<string, string>).CNI_NETNS).toBe('');
      expect(t.events.find((x) => x.name === 'teardownPodNetwork')!.outputs!.note).toMatch(/already gone/);
      expect(existsSync(join(w.node('node1').host.dataDir, 'networks', 'podnet', pod.ip))).toBe(false);
      await expectClean(w);
    }));
});
