// containerd 2.1 / go-cni 1.1.13 / kubelet 1.35 behaviours, in a real world with the real plugins:
// teardown with the config loaded now, the loopback plugin by default (concurrent ADDs), a dead sandbox
// rebuilt with attempt+1, the capability args containerd passes, hostNetwork pods, StopContainer, and
// the undo's cleanupErr once setup had finished.
import { existsSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Kubelet, type KubeletOperation } from '../src-main/runtime/kubelet.js';
import { podLeftovers } from '../src-main/runtime/leaks.js';
import { Trace } from '../src-main/runtime/trace.js';
import { addPlugin, bridgePlugin, expectClean, podRun, withWorld, writeConf, writeDefaultConf } from './helpers.js';
import type { World } from '../src-main/world/world.js';

const until = async (what: string, ok: () => boolean, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** A chain whose first plugin (it loads: only lint minds) gives an empty ADD result and fails its first DEL (a marker file), then behaves. */
async function delOnceFailChain(w: World): Promise<void> {
  await addPlugin(
    w,
    'node1',
    'deloncefail',
    '#!/bin/sh\ncat >/dev/null\ncase "$CNI_COMMAND" in\nADD) echo \'{"cniVersion":"1.0.0"}\' ;;\nDEL) [ -e /var/lib/cni/failed-once ] && exit 0; touch /var/lib/cni/failed-once; echo \'{"cniVersion":"1.0.0","code":11,"msg":"DEL failed once"}\'; exit 1 ;;\nVERSION) echo \'{"cniVersion":"1.0.0","supportedVersions":["1.0.0"]}\' ;;\nesac\n',
  );
  writeConf(w, 'node1', '10-podnet.conflist', {
    cniVersion: '1.0.0',
    name: 'podnet',
    plugins: [{ type: 'deloncefail' }, bridgePlugin('10.244.1.0/24')],
  });
}

describe('teardown uses the config loaded now (go-cni Remove)', () => {
  it('no config when the pod is deleted: StopPodSandbox fails "cni plugin not initialized", the pod stays Terminating and KillPod is retried until the config returns', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const k = new Kubelet(w, { relistPeriodMs: 150, gcDelayMs: 0 });
      const ops: KubeletOperation[] = [];
      k.observe((op) => ops.push(op));
      const pod = await k.syncPod({ name: 'web', node: 'node1' });
      const conf = join(w.node('node1').host.confDir, '10-podnet.conflist');
      const saved = join(w.node('node1').host.confDir, '..', 'saved.conflist');
      renameSync(conf, saved);
      const t = new Trace();
      await expect(k.killPod('web', 'default', t)).rejects.toThrow(
        `failed to destroy network for sandbox "${pod.sandboxId}": cni plugin not initialized`,
      );
      expect(k.pods.get('default/web')?.terminating).toBe(true);
      expect(t.events.find((e) => e.name === 'KillPod')!.outputs!.pod).toMatch(/Terminating/);
      // the kubelet retries KillPod on its own; each try fails the same way while the folder is empty
      await until('two retries', () => ops.filter((o) => o.kind === 'killPod').length >= 3);
      const retry = ops.filter((o) => o.kind === 'killPod')[1]!;
      await expect(retry.done).rejects.toThrow(/cni plugin not initialized/);
      expect(k.pods.has('default/web')).toBe(true);
      renameSync(saved, conf);
      await until('the pod to go', () => !k.pods.has('default/web'));
      await k.idle();
      await k.garbageCollect();
      k.stop();
      await expectClean(w);
    }));

  it('a network renamed between ADD and DEL: DEL runs the new name (and the old reservation is left, as on a real node)', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const k = new Kubelet(w, { gcDelayMs: 0 });
      const pod = await k.syncPod({ name: 'web', node: 'node1' });
      const conf = join(w.node('node1').host.confDir, '10-podnet.conflist');
      writeConf(w, 'node1', '10-podnet.conflist', readFileSync(conf, 'utf8').replace('"podnet"', '"othernet"'));
      const t = new Trace();
      await k.killPod('web', 'default', t);
      const dels = t.events.filter((e) => e.name === 'CNI DEL').map((e) => e.inputs!.network);
      expect(dels).toEqual(['cni-loopback', 'othernet']);
      // host-local looked for othernet's reservations: podnet's stays on the node's disk
      expect(existsSync(join(w.node('node1').host.dataDir, 'networks', 'podnet', pod.ip))).toBe(true);
      k.stop();
    }));
});

describe('RunPodSandbox while the network is not ready (the config went after the kubelet looked)', () => {
  it('makes the netns, fails in setupPodNetwork at go-cni ready(), and undoes everything', () =>
    withWorld(1, async (w) => {
      const rt = new Kubelet(w, { gcDelayMs: 0, relistPeriodMs: 0 }).runtime('node1');
      const t = new Trace();
      const e = await rt.runPodSandbox({ name: 'web', namespace: 'default', uid: 'u1' }, t).then(
        () => {
          throw new Error('RunPodSandbox succeeded');
        },
        (x: Error) => x,
      );
      expect(e.message).toMatch(/^failed to setup network for sandbox "[0-9a-f]{64}": cni plugin not initialized$/);
      expect(t.events.find((x) => x.name === 'NewNetNS')!.error).toBeUndefined();
      expect(t.events.some((x) => x.name === 'CNI ADD')).toBe(false);
      const undos = t.events.filter((x) => x.undo);
      expect(undos.map((x) => [x.name, !!x.error])).toEqual([
        ['undo: teardown pod network (CNI DEL)', false],
        ['undo: remove network namespace', false],
        ['undo: release sandbox name', false],
      ]);
      // go-cni Remove's ready() fails too; ignored, for setup never finished
      expect(undos[0]!.outputs!.ignored).toMatch(/^cni plugin not initialized \(setup never finished/);
      expect(rt.listPodSandbox()).toEqual([]);
      await expectClean(w);
    }));
});

describe('go-cni Remove skips "not found"', () => {
  it('a DEL error that says "not found" is skipped: StopPodSandbox succeeds and the trace says why', () =>
    withWorld(1, async (w) => {
      await addPlugin(
        w,
        'node1',
        'gone',
        '#!/bin/sh\ncat >/dev/null\ncase "$CNI_COMMAND" in\nADD) echo \'{"cniVersion":"1.0.0"}\' ;;\nDEL) echo \'{"cniVersion":"1.0.0","code":11,"msg":"attachment not found"}\'; exit 1 ;;\nVERSION) echo \'{"cniVersion":"1.0.0","supportedVersions":["1.0.0"]}\' ;;\nesac\n',
      );
      writeConf(w, 'node1', '10-podnet.conflist', {
        cniVersion: '1.0.0',
        name: 'podnet',
        plugins: [{ type: 'gone' }, bridgePlugin('10.244.1.0/24')],
      });
      const k = new Kubelet(w, { gcDelayMs: 0 });
      await k.syncPod({ name: 'web', node: 'node1' });
      const t = new Trace();
      await k.killPod('web', 'default', t);
      const skipped = t.events.find((e) => e.name === 'skipped DEL error of podnet')!;
      expect(skipped.outputs!.error).toMatch(/plugin type="gone" failed \(delete\): attachment not found/);
      expect(t.events.find((e) => e.name === 'StopPodSandbox')!.error).toBeUndefined();
      expect(k.pods.has('default/web')).toBe(false);
      k.stop();
    }));
});

describe("loopback: containerd 2.x's default is the loopback plugin", () => {
  it('a kubelet without options attaches cni-loopback and the pod network, and their plugin execs overlap', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const k = new Kubelet(w, { gcDelayMs: 0 });
      expect(k.runtime('node1').loopback).toBe('plugin');
      const t = new Trace();
      await k.syncPod({ name: 'web', node: 'node1' }, t);
      const adds = t.events.filter((e) => e.name === 'CNI ADD');
      expect(adds.map((e) => [e.inputs!.network, e.inputs!.cniVersion, e.inputs!.ifName])).toEqual([
        ['cni-loopback', '0.3.1', 'lo'],
        ['podnet', '1.0.0', 'eth0'],
      ]);
      expect(adds[1]!.start).toBeLessThan(adds[0]!.end!);
      // go-cni's attachNetworks: the loopback plugin and bridge really run at the same time
      const lo = t.events.find((e) => e.name === 'loopback ADD')!;
      const bridge = t.events.find((e) => e.name === 'bridge ADD')!;
      expect(lo.start).toBeLessThan(bridge.end!);
      expect(bridge.start).toBeLessThan(lo.end!);
      expect(t.events.find((e) => e.name === 'setupPodNetwork')!.inputs!.loopback).toBe(
        'use_internal_loopback = false (containerd 2.x default: the loopback plugin)',
      );
      expect(t.events.some((e) => e.name.startsWith('bringUpLoopback'))).toBe(false);
      await k.killAll();
      k.stop();
    }));

  it("use_internal_loopback is named so: its step brings lo up before go-cni's only network", () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const k = new Kubelet(w, { loopback: 'internal', gcDelayMs: 0 });
      const t = new Trace();
      const pod = await k.syncPod({ name: 'web', node: 'node1' }, t);
      expect(t.events.find((e) => e.name === 'bringUpLoopback (use_internal_loopback)')!.inputs).toMatchObject({
        option: 'use_internal_loopback = true',
      });
      expect(t.events.filter((e) => e.name === 'CNI ADD').map((e) => e.inputs!.network)).toEqual(['podnet']);
      expect((await podRun(w, 'node1', pod.netns, 'ip -o link show lo')).stdout).toMatch(/LOOPBACK,UP/);
      await k.killAll();
      k.stop();
    }));
});

describe('a sandbox can die, and is rebuilt', () => {
  it('the pause killed: NOTREADY, getIPs "" once the netns is gone, SandboxChanged, kill, and a new sandbox with attempt 1 and its containers', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const k = new Kubelet(w, { relistPeriodMs: 200, gcDelayMs: 0 });
      const ops: KubeletOperation[] = [];
      k.observe((op) => ops.push(op));
      const pod = await k.syncPod({
        name: 'web',
        node: 'node1',
        containers: [{ name: 'httpd', command: ['httpd', '-f', '-p', '80'] }],
      });
      const first = { sandboxId: pod.sandboxId, netns: pod.netns, ip: pod.ip };
      const rt = k.runtime('node1');
      await w.run({ kind: 'node', node: 'node1' }, ['kill', '-9', String(pod.sandboxPid)]);
      await until('the resync', () => ops.filter((o) => o.kind === 'syncPod').length === 2);
      const resync = ops[1]!;
      await resync.done;
      const t = resync.trace;
      const actions = t.events.find((e) => e.name === 'computePodActions')!;
      expect(actions.outputs).toMatchObject({
        sandboxState: 'SANDBOX_NOTREADY',
        Attempt: 1,
        event: 'Normal SandboxChanged: Pod sandbox changed, it will be killed and re-created.',
      });
      // the old sandbox was stopped (its DEL ran), then a new one made: attempt 1, a new netns
      const names = t.events.filter((e) => e.parent === t.events[0]!.id).map((e) => e.name);
      expect(names.slice(0, 3)).toEqual(['computePodActions', 'KillPod', 'NetworkReady gate']);
      expect(t.events.find((e) => e.name === 'RunPodSandbox')!.inputs).toMatchObject({ attempt: 1 });
      expect(pod.attempt).toBe(1);
      expect(pod.sandboxId).not.toBe(first.sandboxId);
      expect(pod.netns).not.toBe(first.netns);
      expect(pod.ip).toMatch(/^10\.244\.1\./);
      expect(t.events[0]!.outputs).toMatchObject({ attempt: 1, previousIp: first.ip, ip: pod.ip });
      // the old sandbox is NOTREADY with its netns closed: getIPs says ""
      const old = await rt.podSandboxStatus(first.sandboxId, new Trace());
      expect(old).toMatchObject({ state: 'SANDBOX_NOTREADY', network: { ip: '' } });
      // the container runs again in the new netns and answers there
      expect(pod.containers).toHaveLength(1);
      const r = await podRun(
        w,
        'node1',
        pod.netns,
        `for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O /dev/null -T 1 http://${pod.ip}/ 2>&1; [ $? -ne 4 ] && echo up && exit; sleep 0.2; done`,
      );
      expect(r.stdout).toContain('up');
      // the sandbox name of attempt 1 ends in _1; the GC removes the dead one
      const sb = rt.sandbox(pod.sandboxId);
      expect(`${sb.config.name}_${sb.config.namespace}_${sb.config.uid}_${sb.config.attempt}`).toMatch(/_1$/);
      await k.garbageCollect();
      expect(rt.listPodSandbox().map((s) => s.id)).toEqual([pod.sandboxId]);
      await k.killAll();
      await k.garbageCollect();
      k.stop();
      await expectClean(w);
    }));
});

describe('what containerd always passes', () => {
  it('capability args: pod annotations, dns, cgroupPath, portMappings from hostPort and bandwidth from annotations, as go-cni serialises them', () =>
    withWorld(1, async (w) => {
      writeConf(w, 'node1', '10-podnet.conflist', {
        cniVersion: '1.0.0',
        name: 'podnet',
        plugins: [
          bridgePlugin('10.244.1.0/24'),
          { type: 'portmap', capabilities: { portMappings: true } },
          { type: 'bandwidth', capabilities: { bandwidth: true } },
        ],
      });
      const k = new Kubelet(w, { gcDelayMs: 0 });
      const t = new Trace();
      const pod = await k.syncPod(
        {
          name: 'web',
          node: 'node1',
          annotations: { 'kubernetes.io/ingress-bandwidth': '1M', team: 'net' },
          containers: [
            { name: 'httpd', command: ['httpd', '-f', '-p', '80'], ports: [{ containerPort: 80, hostPort: 8080 }] },
          ],
        },
        t,
      );
      const stdinOf = (name: string) =>
        t.events.find((e) => e.name === name)!.inputs!.stdin as { runtimeConfig?: Record<string, unknown> };
      expect(stdinOf('portmap ADD').runtimeConfig).toEqual({
        portMappings: [{ HostPort: 8080, ContainerPort: 80, Protocol: 'tcp', HostIP: '' }],
      });
      expect(stdinOf('bandwidth ADD').runtimeConfig).toMatchObject({
        bandwidth: { IngressRate: 1_000_000, IngressBurst: 4294967295 },
      });
      // the cache keeps every capability arg go-cni passed
      const cached = JSON.parse(
        readFileSync(join(w.node('node1').host.dataDir, 'results', `podnet-${pod.sandboxId}-eth0`), 'utf8'),
      ) as { capabilityArgs: Record<string, unknown> };
      expect(cached.capabilityArgs).toMatchObject({
        'io.kubernetes.cri.pod-annotations': { 'kubernetes.io/ingress-bandwidth': '1M', team: 'net' },
        cgroupPath: `/kubepods/besteffort/pod${pod.uid}`,
        dns: { Servers: ['10.96.0.10'], Searches: expect.arrayContaining(['default.svc.cluster.local']) },
      });
      // portmap made the DNAT for the hostPort in the node's netns
      const nat = await w.run({ kind: 'node', node: 'node1' }, ['iptables-save', '-t', 'nat']);
      expect(nat).toMatch(/--dport 8080 .*-j DNAT --to-destination 10\.244\.1\.\d+:80|CNI-DN-.*8080/);
      await k.killAll();
      await k.garbageCollect();
      k.stop();
      await expectClean(w);
    }));

  it('a hostNetwork pod: admitted while NetworkReady is false, no netns and no CNI, the node IP as pod IP; others are refused', () =>
    withWorld(1, async (w) => {
      const k = new Kubelet(w, { gcDelayMs: 0 });
      expect(k.nodeNetworkReady('node1').status).toBe(false);
      const t = new Trace();
      const pod = await k.syncPod(
        {
          name: 'cni-installer',
          node: 'node1',
          hostNetwork: true,
          containers: [{ name: 's', command: ['sleep', '100'] }],
        },
        t,
      );
      expect(t.events.find((e) => e.name === 'NetworkReady gate')!.outputs).toMatchObject({
        NetworkReady: false,
        note: 'a hostNetwork pod runs while the network is not ready',
      });
      expect(t.events.some((e) => e.name === 'NewNetNS' || e.name === 'CNI ADD')).toBe(false);
      expect(t.events.find((e) => e.name === 'getIPs')!.outputs).toMatchObject({ ip: '' });
      expect(pod.ip).toBe(w.node('node1').underlayIp);
      expect(pod.netns).toBe('');
      // its container sees the node's interfaces
      const links = await w.run({ kind: 'node', node: 'node1' }, [
        'nsenter',
        `--net=/proc/${pod.containers[0]!.pid}/ns/net`,
        'ip',
        '-o',
        'link',
      ]);
      expect(links).toMatch(/ eth0[@:]/);
      await expect(k.syncPod({ name: 'web', node: 'node1' })).rejects.toThrow(
        'network is not ready: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
      );
      const kt = new Trace();
      await k.killPod('cni-installer', 'default', kt);
      expect(kt.events.some((e) => e.name === 'teardownPodNetwork')).toBe(false);
      await k.garbageCollect();
      k.stop();
      await expectClean(w);
    }));
});

describe('stopping containers and the undo once setup had finished', () => {
  it("KillPod's killContainer calls CRI StopContainer with the grace period (Kubernetes' default 30 s named)", () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const k = new Kubelet(w, { gcDelayMs: 0 });
      await k.syncPod({
        name: 'web',
        node: 'node1',
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'app', command: ['sleep', '1000'] }],
      });
      const t = new Trace();
      await k.killPod('web', 'default', t);
      const stop = t.events.find((e) => e.name === 'StopContainer')!;
      expect(stop.component).toBe('cri');
      // 1 s asked, 2 s given: killContainer's minimumGracePeriodInSeconds
      expect(stop.inputs).toMatchObject({ timeout: 2, container: 'app' });
      expect(stop.outputs!.outcome).toBe('app: exited on SIGTERM');
      // called by the kubelet's killContainer, under kill containers
      const kc = t.events.find((e) => e.id === stop.parent)!;
      expect([kc.component, kc.name]).toEqual(['kubelet', 'killContainer app']);
      expect(t.events.find((e) => e.name === 'kill containers')!.inputs!.note).toMatch(/Kubernetes' default: 30 s/);
      await k.garbageCollect();
      k.stop();
    }));

  it('the pause fails after CNI ADD succeeded and DEL fails too: cleanupErr keeps the sandbox SANDBOX_UNKNOWN, no inline kill; the GC stops and removes it', () =>
    withWorld(1, async (w) => {
      await delOnceFailChain(w);
      const k = new Kubelet(w, { gcDelayMs: 0 });
      const rt = k.runtime('node1');
      const t = new Trace();
      // a hostname longer than the kernel's 64 characters: the pause fails after the network is set up
      const err = await rt
        .runPodSandbox({ name: 'web', namespace: 'default', uid: 'u1', hostname: 'h'.repeat(70) }, t)
        .then(
          () => {
            throw new Error('RunPodSandbox succeeded');
          },
          (e: Error & { cleanupError?: Error; sandboxId?: string }) => e,
        );
      expect(err.message).toMatch(/^failed to start sandbox container task/);
      expect(err.cleanupError?.message).toMatch(/DEL failed once/);
      const sb = rt.sandbox(err.sandboxId!);
      expect(sb.state).toBe('SANDBOX_UNKNOWN');
      expect(sb.cniResult).toBeDefined();
      const undos = t.events.filter((e) => e.undo).map((e) => [e.name, !!e.error]);
      expect(undos).toEqual([
        ['undo: remove sandbox files', false],
        ['undo: teardown pod network (CNI DEL)', true],
      ]);
      // the GC's RemovePodSandbox stops it: DEL again (now it works), the netns goes, the name is released
      const gc = new Trace();
      await k.garbageCollect(gc);
      expect(gc.events.filter((e) => e.name === 'deloncefail DEL' && !e.error)).toHaveLength(1);
      expect(rt.listPodSandbox()).toEqual([]);
      expect((await podLeftovers(w, 'node1')).items.filter((i) => !i.startsWith('interface'))).toEqual([]);
      rmSync(join(w.node('node1').host.dataDir, 'failed-once'));
      k.stop();
    }));

  it("a sync that left a SANDBOX_UNKNOWN sandbox: the kubelet's next sync stops it (no inline kill), and the pod's next syncPod is attempt 1 of the same pod", () =>
    withWorld(1, async (w) => {
      await delOnceFailChain(w);
      const k = new Kubelet(w, { relistPeriodMs: 150, gcDelayMs: 0 });
      const ops: KubeletOperation[] = [];
      k.observe((op) => ops.push(op));
      const t = new Trace();
      // in the world, between setupSandboxFiles and the pause: the sandbox's files vanish, so the pause fails
      t.gate = async (next) => {
        if (next.name !== 'start sandbox container (pause)') return;
        const id = t.events.find((e) => e.name === 'RunPodSandbox')!.outputs!.sandboxId as string;
        rmSync(join(w.node('node1').host.sandboxesDir, id), { recursive: true, force: true });
      };
      const e = (await k.syncPod({ name: 'web', node: 'node1' }, t).then(
        () => {
          throw new Error('SyncPod succeeded');
        },
        (x: Error) => x,
      )) as Error & { sandboxId?: string };
      expect(e.message).toMatch(
        /^Failed to create pod sandbox: rpc error: code = Unknown desc = failed to start sandbox/,
      );
      const rt = k.runtime('node1');
      expect(rt.sandbox(e.sandboxId!).state).toBe('SANDBOX_UNKNOWN');
      expect(t.events.some((x) => x.name === 'kill failed sandbox' || x.name === 'StopPodSandbox')).toBe(false);
      // the relist's SyncPod: computePodActions, then KillPod stops the sandbox (its DEL works now)
      await until('the sync of the failed pod', () => ops.length >= 2);
      await ops[1]!.done;
      const sync = ops[1]!.trace;
      expect(sync.events.find((x) => x.name === 'computePodActions')!.outputs).toMatchObject({
        sandboxState: 'SANDBOX_UNKNOWN',
        KillPod: true,
        Attempt: 1,
      });
      expect(sync.events.some((x) => x.name === 'StopPodSandbox' && !x.error)).toBe(true);
      expect(rt.sandbox(e.sandboxId!).state).toBe('SANDBOX_NOTREADY');
      // the pod's next syncPod: the same pod (uid), attempt 1, a sandbox named …_1
      t.gate = undefined;
      const t2 = new Trace();
      const pod = await k.syncPod({ name: 'web', node: 'node1' }, t2);
      expect(pod.attempt).toBe(1);
      expect(t2.events.find((x) => x.name === 'RunPodSandbox')!.inputs).toMatchObject({ attempt: 1 });
      expect(pod.uid).toBe(rt.sandbox(e.sandboxId!).config.uid);
      await k.garbageCollect();
      expect(rt.listPodSandbox().map((s) => s.id)).toEqual([pod.sandboxId]);
      await k.killAll();
      await k.garbageCollect();
      rmSync(join(w.node('node1').host.dataDir, 'failed-once'));
      k.stop();
      await expectClean(w);
    }));
});
