// Bad input gets a specific error, and changes or leaks nothing.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExecError, PluginError } from '../src-main/cni/errors.js';
import { checkConfigText } from '../src-main/cni/lint/check.js';
import { CriError } from '../src-main/runtime/containerd.js';
import { Kubelet, KubeletError } from '../src-main/runtime/kubelet.js';
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

/** The error a kubelet error wraps, down to the plugin's or the executor's. */
function rootCause(e: unknown): unknown {
  let c = e;
  while (c instanceof Error && c.cause) c = c.cause;
  return c;
}

const list = (plugins: unknown[], extra: Record<string, unknown> = {}) => ({
  cniVersion: '1.0.0',
  name: 'podnet',
  plugins,
  ...extra,
});

const NOT_INITIALIZED = 'Network plugin returns error: cni plugin not initialized';
const NOT_READY =
  'network is not ready: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized';

describe('broken configuration (go-cni 1.1.13 Load and Status)', () => {
  it("invalid JSON: NotReady with containerd's message, the parse error in lastCNILoadStatus, and the kubelet refuses the pod", () =>
    withWorld(1, async (w) => {
      writeConf(
        w,
        'node1',
        '10-podnet.conflist',
        '{\n  "cniVersion": "1.0.0",\n  "name": "podnet",\n  "plugins": [ { "type": "bridge" }, ]\n}\n',
      );
      const k = new Kubelet(w);
      const ready = k.nodeNetworkReady('node1');
      expect(ready).toEqual({
        type: 'NetworkReady',
        status: false,
        reason: 'NetworkPluginNotReady',
        message: NOT_INITIALIZED,
      });
      const st = await k.runtimeStatus('node1');
      expect(st.lastCNILoadStatus).toMatch(
        /^cni config load failed: failed to load CNI config list file \/etc\/cni\/net\.d\/10-podnet\.conflist: .*: invalid cni config: failed to load cni config$/,
      );
      const t = new Trace();
      const e = await failure(k.syncPod({ name: 'web', node: 'node1' }, t));
      expect(e.message).toBe(NOT_READY);
      const gate = t.events.find((x) => x.name === 'NetworkReady gate')!;
      expect(gate.outputs!.event).toBe(`Warning NetworkNotReady: ${NOT_READY}`);
      await expectClean(w);
    }));

  it('a file that does not load, sorted first, makes the node NotReady though a valid file follows', () =>
    withWorld(1, async (w) => {
      writeConf(w, 'node1', '05-broken.conflist', '{"cniVersion": "1.0.0", "name": "x", "plugins": [');
      writeDefaultConf(w);
      const k = new Kubelet(w);
      const st = await k.runtimeStatus('node1');
      expect(st.conditions[1]).toMatchObject({ status: false, message: NOT_INITIALIZED });
      expect(st.lastCNILoadStatus).toContain('failed to load CNI config list file /etc/cni/net.d/05-broken.conflist');
      // the editor's view still lists every file with its verdict
      expect(st.configFiles.map((f) => [f.file, !!f.error])).toEqual([
        ['/etc/cni/net.d/05-broken.conflist', true],
        ['/etc/cni/net.d/10-podnet.conflist', false],
      ]);
      expect((await failure(k.syncPod({ name: 'web', node: 'node1' }))).message).toBe(NOT_READY);
      // removing the broken file: the next Status loads 10-podnet
      rmSync(join(w.node('node1').host.confDir, '05-broken.conflist'));
      expect((await k.runtimeStatus('node1')).conditions[1]!.status).toBe(true);
      const pod = await k.syncPod({ name: 'web', node: 'node1' });
      expect(pod.ip).toMatch(/^10\.244\.1\./);
      await k.killAll();
      await k.garbageCollect();
    }));

  it('no config at all: NotReady, "cni plugin not initialized"; lastCNILoadStatus says none was found', () =>
    withWorld(1, async (w) => {
      const k = new Kubelet(w);
      expect(k.nodeNetworkReady('node1')).toMatchObject({ status: false, message: NOT_INITIALIZED });
      expect((await k.runtimeStatus('node1')).lastCNILoadStatus).toBe(
        'cni config load failed: no network config found in /etc/cni/net.d: cni plugin not initialized: failed to load cni config',
      );
    }));

  it('lint errors (host bits in the subnet, a string mtu) never make the node NotReady', () =>
    withWorld(1, async (w) => {
      writeConf(w, 'node1', '10-podnet.conflist', list([{ ...bridgePlugin('10.244.1.5/24'), mtu: '1400' }]));
      const k = new Kubelet(w);
      // the editor's lint finds both problems…
      const text = readFileSync(join(w.node('node1').host.confDir, '10-podnet.conflist'), 'utf8');
      expect(checkConfigText('10-podnet.conflist', text).length).toBeGreaterThanOrEqual(2);
      // …and containerd loads the file all the same
      const st = await k.runtimeStatus('node1');
      expect(st.conditions[1]).toMatchObject({ status: true });
      expect(st.lastCNILoadStatus).toBe('OK');
    }));

  it('unknown plugin type: the node stays Ready; RunPodSandbox fails at ADD, wrapped as containerd and the kubelet wrap it', () =>
    withWorld(1, async (w) => {
      writeConf(w, 'node1', '10-podnet.conflist', list([{ type: 'no-such-plugin' }]));
      const k = new Kubelet(w);
      expect(k.nodeNetworkReady('node1').status).toBe(true);
      expect((await k.runtimeStatus('node1')).conditions[1]!.status).toBe(true);
      const t = new Trace();
      const e = await failure(k.syncPod({ name: 'web', node: 'node1' }, t));
      const id = t.events.find((x) => x.name === 'RunPodSandbox')!.outputs!.sandboxId as string;
      expect(e.message).toMatch(
        new RegExp(
          `^Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "${id}": .*failed to find plugin "no-such-plugin" in path \\[/opt/cni/bin\\]`,
        ),
      );
      expect((e.cause as Error).message).toMatch(/^failed to setup network for sandbox/);
      await k.garbageCollect();
      await expectClean(w);
    }));

  it('a 1.1.0 list: Status runs the CNI STATUS verb, and a plugin that is not ready makes the node NotReady', () =>
    withWorld(1, async (w) => {
      writeConf(w, 'node1', '10-podnet.conflist', list([bridgePlugin('10.244.1.0/24')], { cniVersion: '1.1.0' }));
      const k = new Kubelet(w);
      const execs: string[] = [];
      const rt = k.runtime('node1');
      expect((await rt.status((r) => execs.push(`${r.plugin} ${r.command}`))).conditions[1]!.status).toBe(true);
      // go-cni Status: STATUS to each plugin of each ≥ 1.1.0 network (cni-loopback is 0.3.1: none)
      expect(execs.filter((x) => x.endsWith('STATUS'))).toEqual(['bridge STATUS']);
      await addPlugin(
        w,
        'node1',
        'notready',
        '#!/bin/sh\ncat >/dev/null\ncase "$CNI_COMMAND" in\nVERSION) echo \'{"cniVersion":"1.1.0","supportedVersions":["1.0.0","1.1.0"]}\' ;;\nSTATUS) echo \'{"cniVersion":"1.1.0","code":50,"msg":"the network is not available","details":"no upstream"}\'; exit 1 ;;\nesac\n',
      );
      writeConf(
        w,
        'node1',
        '10-podnet.conflist',
        list([bridgePlugin('10.244.1.0/24'), { type: 'notready' }], { cniVersion: '1.1.0' }),
      );
      const st = await rt.status();
      expect(st.conditions[1]!.status).toBe(false);
      expect(st.conditions[1]!.message).toMatch(/^Network plugin returns error: .*the network is not available/);
      expect(st.lastCNILoadStatus).toBe('OK');
      // the kubelet's cached view keeps that verdict for the same config
      expect(k.nodeNetworkReady('node1').status).toBe(false);
      expect((await failure(k.syncPod({ name: 'web', node: 'node1' }))).message).toMatch(
        /^network is not ready: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: .*the network is not available/,
      );
    }));

  it('missing ipam: no pod IP, a specific error, and the undo DELs what bridge made and removes the netns', () =>
    withWorld(1, async (w) => {
      writeConf(w, 'node1', '10-podnet.conflist', list([{ type: 'bridge', bridge: 'cni0' }]));
      const k = new Kubelet(w);
      const t = new Trace();
      const e = await failure(k.syncPod({ name: 'web', node: 'node1' }, t));
      // bridge without IPAM wires L2 only; containerd then finds no IP on eth0
      expect(e).toBeInstanceOf(KubeletError);
      expect(e.cause).toBeInstanceOf(CriError);
      expect(e.message).toMatch(
        /^Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "([0-9a-f]{64})": failed to find network info for sandbox "\1"$/,
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
      await k.garbageCollect();
    }));

  it('a 1.1.0 list runs with the 1.9.1 plugins (they speak CNI 1.1.0)', () =>
    withWorld(1, async (w) => {
      writeConf(w, 'node1', '10-podnet.conflist', list([bridgePlugin('10.244.1.0/24')], { cniVersion: '1.1.0' }));
      const k = new Kubelet(w);
      const t = new Trace();
      const pod = await k.syncPod({ name: 'web', node: 'node1' }, t);
      expect(pod.ip).toMatch(/^10\.244\.1\./);
      expect(
        (t.events.find((x) => x.name === 'bridge ADD')!.outputs!.stdout as { cniVersion: string }).cniVersion,
      ).toBe('1.1.0');
      await k.killAll();
      await k.garbageCollect();
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
        const e = (r as PromiseRejectedResult).reason as Error;
        expect(rootCause(e)).toBeInstanceOf(PluginError);
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
      await k.garbageCollect();
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
      expect(rootCause(e)).toBeInstanceOf(ExecError);
      expect(e.message).toMatch(
        /^Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "[0-9a-f]{64}": plugin type="hang" failed \(add\): the lab stopped plugin "hang" after 0\.8 s of ADD \(its own guard against a hung plugin: containerd has no per-plugin timeout/,
      );
      await expectClean(w);
    }));

  it("a plugin that hangs on DEL too: the undo's DEL error is ignored (CNIResult is nil), the netns and name go, and the IP reservation leaks, as in containerd 2.1", () =>
    withWorld(1, async (w) => {
      await addPlugin(w, 'node1', 'hang', '#!/bin/sh\ncat >/dev/null\nsleep 60\n');
      writeConf(w, 'node1', '10-podnet.conflist', list([bridgePlugin('10.244.1.0/24'), { type: 'hang' }]));
      const k = new Kubelet(w, { pluginTimeoutMs: 400 });
      const t = new Trace();
      const e = await failure(k.syncPod({ name: 'web', node: 'node1' }, t));
      expect(e.message).toMatch(/plugin type="hang" failed \(add\): the lab stopped plugin "hang" after 0\.4 s of ADD/);
      expect((e as { cleanupError?: unknown }).cleanupError).toBeUndefined();
      // every undo ran and none failed: the DEL error was ignored, the netns removed, the name released
      const undos = t.events.filter((x) => x.undo);
      expect(undos.map((x) => [x.name, !!x.error])).toEqual([
        ['undo: teardown pod network (CNI DEL)', false],
        ['undo: remove network namespace', false],
        ['undo: release sandbox name', false],
      ]);
      expect(undos[0]!.outputs!.ignored).toMatch(
        /plugin type="hang" failed \(delete\): the lab stopped plugin "hang" after 0\.4 s of DEL.*CNIResult is nil/,
      );
      expect(undos[0]!.inputs!['containerd 1.7']).toMatch(/cleanupErr/);
      // no SANDBOX_UNKNOWN left, and no inline kill
      expect(k.runtime('node1').listPodSandbox()).toEqual([]);
      expect(t.events.some((x) => x.name === 'kill failed sandbox')).toBe(false);
      // the lab's own time limit is named so in the trace
      expect(t.events.find((x) => x.name === 'CNI ADD' && x.inputs!.network === 'podnet')!.inputs).toMatchObject({
        "lab's plugin time limit": expect.stringMatching(/the lab's own guard; containerd has no per-plugin timeout/),
      });
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
      expect(rootCause(e)).toBeInstanceOf(ExecError);
      expect(e.message).toMatch(
        /plugin type="garbage" failed \(add\): failed to unmarshal raw result: invalid character 'h' looking for beginning of value$/,
      );
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
      expect(rootCause(e)).toBeInstanceOf(PluginError);
      expect(e.message).toMatch(/boom/);
      const execs = t.events
        .filter((x) => x.component === 'cni' && / (ADD|DEL)$/.test(x.name) && !/^(CNI|loopback) /.test(x.name))
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
      await k.garbageCollect();
      const del = t.events.find((x) => x.name === 'bridge DEL')!;
      expect((del.inputs!.env as Record<string, string>).CNI_NETNS).toBe('');
      expect(t.events.find((x) => x.name === 'teardownPodNetwork')!.outputs!.note).toMatch(
        /closed: DEL runs with an empty CNI_NETNS/,
      );
      expect(existsSync(join(w.node('node1').host.dataDir, 'networks', 'podnet', pod.ip))).toBe(false);
      await expectClean(w);
    }));
});
