// The CNI executor against the real plugins (1.9.1: CNI up to 1.1.0): what a plugin receives, CHECK,
// VERSION, STATUS, GC, single-plugin .conf files, and concurrency (distinct IPs; no lock, as libcni).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { confListFromText, type ConfList } from '../src-main/cni/conf.js';
import { NotSupportedError } from '../src-main/cni/errors.js';
import type { PluginExecRecord } from '../src-main/cni/invoke.js';
import type { RuntimeConf } from '../src-main/cni/libcni.js';
import { Kubelet } from '../src-main/runtime/kubelet.js';
import { Trace } from '../src-main/runtime/trace.js';
import { WORLD_PATH, type World } from '../src-main/world/world.js';
import { addPlugin, bridgePlugin, expectClean, failure, withWorld, writeConf } from './helpers.js';

const SUBNET = '10.244.1.0/24';
const conflist = (plugins: unknown[], extra: Record<string, unknown> = {}) => ({
  cniVersion: '1.0.0',
  name: 'podnet',
  plugins,
  ...extra,
});
const listOf = (plugins: unknown[], extra: Record<string, unknown> = {}): ConfList =>
  confListFromText(JSON.stringify(conflist(plugins, extra)));
const rtFor = (containerId: string, netns: string): RuntimeConf => ({
  containerId,
  netns,
  ifName: 'eth0',
  args: [],
  capabilityArgs: {},
});

async function netnsAdd(w: World, name: string): Promise<string> {
  await w.run({ kind: 'node', node: 'node1' }, ['ip', 'netns', 'add', name]);
  return `/run/netns/${name}`;
}

const reservation = (w: World, ip: string, net = 'podnet') => join(w.node('node1').host.dataDir, 'networks', net, ip);
const ipOf = (r: { ips?: { address: string }[] }) => r.ips![0]!.address.split('/')[0]!;

// Saves its environment and stdin, then passes prevResult through as its own result (on ADD).
const CAPTURE = `#!/bin/sh
f=/var/lib/cni/capture-$CNI_COMMAND
env > $f.env
cat > $f.stdin
case "$CNI_COMMAND" in
ADD) sed -e 's/^.*"prevResult"://' -e 's/,"runtimeConfig":.*$/}/' -e 's/}$//' $f.stdin ;;
VERSION) echo '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}' ;;
esac
`;

function captured(w: World, command: string): { env: Record<string, string>; stdin: Record<string, unknown> } {
  const base = join(w.node('node1').host.dataDir, `capture-${command}`);
  const env: Record<string, string> = {};
  for (const line of readFileSync(`${base}.env`, 'utf8').split('\n').filter(Boolean)) {
    const i = line.indexOf('=');
    env[line.slice(0, i)] = line.slice(i + 1);
  }
  return { env, stdin: JSON.parse(readFileSync(`${base}.stdin`, 'utf8')) as Record<string, unknown> };
}

describe('what a plugin receives', () => {
  it('ADD and DEL: the exact CNI environment, the list name and version, prevResult, and only its own capabilities', () =>
    withWorld(1, async (w) => {
      await addPlugin(w, 'node1', 'capture', CAPTURE);
      writeConf(
        w,
        'node1',
        '10-podnet.conflist',
        conflist([
          bridgePlugin(SUBNET),
          {
            type: 'capture',
            name: 'not-this',
            cniVersion: '0.3.1',
            marker: 'kept',
            capabilities: { portMappings: true },
          },
        ]),
      );
      const portMappings = [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }];
      const bandwidth = { ingressRate: 1000000, ingressBurst: 100000, egressRate: 1000000, egressBurst: 100000 };
      const k = new Kubelet(w);
      const t = new Trace();
      const pod = await k.syncPod({ name: 'cap', node: 'node1', capabilityArgs: { portMappings, bandwidth } }, t);
      expect(pod.ip).toMatch(/^10\.244\.1\.\d+$/);

      const add = captured(w, 'ADD');
      const cniVars = Object.fromEntries(Object.entries(add.env).filter(([k]) => k.startsWith('CNI_')));
      expect(cniVars).toEqual({
        CNI_COMMAND: 'ADD',
        CNI_CONTAINERID: pod.sandboxId,
        CNI_NETNS: pod.netns,
        CNI_IFNAME: 'eth0',
        CNI_PATH: '/opt/cni/bin',
        CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=cap;K8S_POD_INFRA_CONTAINER_ID=${pod.sandboxId};K8S_POD_UID=${pod.uid}`,
      });
      expect(add.env).toMatchObject({ PATH: WORLD_PATH, PODNET_NODE: 'node1' });
      const bridgeResult = t.events.find((e) => e.name === 'bridge ADD')!.outputs!.stdout as {
        ips: { address: string }[];
      };
      expect(bridgeResult.ips[0]!.address).toBe(`${pod.ip}/24`);
      // libcni keeps "capabilities" and passes the previous result as its typed struct (an empty dns goes)
      const { dns: _dns, ...typedBridgeResult } = bridgeResult as unknown as Record<string, unknown>;
      expect(add.stdin).toEqual({
        capabilities: { portMappings: true },
        cniVersion: '1.0.0',
        name: 'podnet',
        type: 'capture',
        marker: 'kept',
        prevResult: typedBridgeResult,
        runtimeConfig: { portMappings },
      });
      // bridge declares no capabilities, so it gets no runtimeConfig at all
      expect(t.events.find((e) => e.name === 'bridge ADD')!.inputs!.stdin).not.toHaveProperty('runtimeConfig');

      const cacheFile = join(w.node('node1').host.dataDir, 'results', `podnet-${pod.sandboxId}-eth0`);
      const cachedResult = (JSON.parse(readFileSync(cacheFile, 'utf8')) as { result: unknown }).result;
      expect(cachedResult).toEqual(typedBridgeResult);
      await k.killPod('cap');
      const del = captured(w, 'DEL');
      expect(del.env).toMatchObject({
        CNI_COMMAND: 'DEL',
        CNI_CONTAINERID: pod.sandboxId,
        CNI_NETNS: pod.netns,
        CNI_IFNAME: 'eth0',
        CNI_ARGS: cniVars.CNI_ARGS,
      });
      expect(del.stdin).toEqual({
        capabilities: { portMappings: true },
        cniVersion: '1.0.0',
        name: 'podnet',
        type: 'capture',
        marker: 'kept',
        prevResult: cachedResult,
        runtimeConfig: { portMappings },
      });
      expect(existsSync(cacheFile)).toBe(false);
      await expectClean(w);
    }));
});

describe('CHECK', () => {
  it('runs after ADD, is skipped with disableCheck ("true" as a string too), needs 0.4.0; without a cached result the plugin gets no prevResult', () =>
    withWorld(1, async (w) => {
      const cni = new Kubelet(w).runtime('node1').cni;
      const list = listOf([bridgePlugin(SUBNET)]);
      const rt = rtFor('chk1', await netnsAdd(w, 'chk'));
      const result = await cni.addNetworkList(list, rt);
      const recs: PluginExecRecord[] = [];
      expect(await cni.checkNetworkList(list, rt, (r) => recs.push(r))).toEqual({ skipped: false });
      expect(recs.map((r) => [r.plugin, r.command, r.exitCode])).toEqual([['bridge', 'CHECK', 0]]);
      expect(JSON.parse(recs[0]!.stdin).prevResult).toEqual(result);

      const skipped: PluginExecRecord[] = [];
      for (const disableCheck of [true, 'true'])
        expect(
          await cni.checkNetworkList(listOf([bridgePlugin(SUBNET)], { disableCheck }), rt, (r) => skipped.push(r)),
        ).toEqual({ skipped: true });
      expect(skipped).toEqual([]);

      const old = await failure(cni.checkNetworkList(listOf([bridgePlugin(SUBNET)], { cniVersion: '0.3.1' }), rt));
      expect(old).toBeInstanceOf(NotSupportedError);
      expect(old.message).toBe('configuration version "0.3.1" does not support the CHECK command');

      // libcni sends CHECK without prevResult; the plugin's own checks then fail (host-local knows no such container)
      const none: PluginExecRecord[] = [];
      const unknown = await failure(cni.checkNetworkList(list, rtFor('never-added', rt.netns), (r) => none.push(r)));
      expect(none.map((r) => [r.plugin, r.command])).toEqual([['bridge', 'CHECK']]);
      expect(JSON.parse(none[0]!.stdin)).not.toHaveProperty('prevResult');
      expect(unknown.message).toBe('host-local: Failed to find address added by container never-added');

      await cni.delNetworkList(list, rt);
      expect(existsSync(reservation(w, ipOf(result)))).toBe(false);
      await w.run({ kind: 'node', node: 'node1' }, ['ip', 'netns', 'delete', 'chk']);
      await expectClean(w);
    }));
});

describe('VERSION, STATUS and GC with the 1.9.1 plugins (CNI up to 1.1.0)', () => {
  it('bridge speaks 1.1.0; VERSION is asked as libcni asks it', () =>
    withWorld(1, async (w) => {
      const recs: PluginExecRecord[] = [];
      const v = await new Kubelet(w).runtime('node1').cni.getVersionInfo('bridge', undefined, (r) => recs.push(r));
      expect(v.supportedVersions).toContain('1.1.0');
      expect(recs[0]!.stdin).toBe('{"cniVersion":"1.1.0"}');
      expect(recs[0]!.env).toMatchObject({
        CNI_COMMAND: 'VERSION',
        CNI_NETNS: 'dummy',
        CNI_IFNAME: 'dummy',
        CNI_PATH: 'dummy',
      });
    }));

  it('STATUS: sent to each plugin of a 1.1.0 list; nothing at all for an older list (libcni reports success)', () =>
    withWorld(1, async (w) => {
      const cni = new Kubelet(w).runtime('node1').cni;
      const recs: PluginExecRecord[] = [];
      expect(
        await cni.getStatusNetworkList(
          listOf([bridgePlugin(SUBNET), { type: 'portmap', capabilities: { portMappings: true } }], {
            cniVersion: '1.1.0',
          }),
          (r) => recs.push(r),
        ),
      ).toEqual({ sent: true });
      expect(recs.map((r) => [r.plugin, r.command, r.exitCode])).toEqual([
        ['bridge', 'STATUS', 0],
        ['portmap', 'STATUS', 0],
      ]);
      const old: PluginExecRecord[] = [];
      const r = await cni.getStatusNetworkList(listOf([bridgePlugin(SUBNET)]), (x) => old.push(x));
      expect(r.sent).toBe(false);
      expect(old).toEqual([]);
    }));

  it('GC of a 1.0.0 list DELs the cached attachments that are not valid, and sends no GC verb', () =>
    withWorld(1, async (w) => {
      const cni = new Kubelet(w).runtime('node1').cni;
      const list = listOf([bridgePlugin(SUBNET)]);
      const a = rtFor('gc-a', await netnsAdd(w, 'gca'));
      const b = rtFor('gc-b', await netnsAdd(w, 'gcb'));
      const ipA = ipOf(await cni.addNetworkList(list, a));
      const ipB = ipOf(await cni.addNetworkList(list, b));
      expect(readFileSync(reservation(w, ipA), 'utf8')).toContain('gc-a');

      // gc-b is valid: only gc-a is DELeted (with its cached netns); the GC verb is not sent, and the note says why
      const recs: PluginExecRecord[] = [];
      const note =
        'network "podnet" is cniVersion 1.0.0: libcni sends the GC verb only from 1.1.0; only the stale attachments were deleted';
      expect(await cni.gcNetworkList(list, [{ containerId: 'gc-b', ifName: 'eth0' }], (r) => recs.push(r))).toEqual({
        deleted: ['gc-a'],
        gcSent: false,
        note,
      });
      expect(recs.map((r) => [r.plugin, r.command, r.env.CNI_CONTAINERID, r.env.CNI_NETNS])).toEqual([
        ['bridge', 'DEL', 'gc-a', a.netns],
      ]);
      expect(existsSync(reservation(w, ipA))).toBe(false);
      expect(existsSync(reservation(w, ipB))).toBe(true);

      // nothing valid: gc-b goes too
      expect(await cni.gcNetworkList(list, [])).toEqual({ deleted: ['gc-b'], gcSent: false, note });
      expect(existsSync(reservation(w, ipB))).toBe(false);
      expect(cni.cache.list('podnet')).toEqual([]);
      await w.run({ kind: 'node', node: 'node1' }, ['sh', '-c', 'ip netns delete gca && ip netns delete gcb']);
      await expectClean(w);
    }));

  it('GC with a plugin that speaks 1.1.0: returns the deleted containers and sends the valid attachments', () =>
    withWorld(1, async (w) => {
      await addPlugin(
        w,
        'node1',
        'gc11',
        `#!/bin/sh
cat > /var/lib/cni/gc11-$CNI_COMMAND
case "$CNI_COMMAND" in
ADD) echo '{"cniVersion":"1.1.0","ips":[{"address":"10.9.0.2/24"}]}' ;;
VERSION) echo '{"cniVersion":"1.1.0","supportedVersions":["1.0.0","1.1.0"]}' ;;
esac
`,
      );
      const cni = new Kubelet(w).runtime('node1').cni;
      const list = listOf([{ type: 'gc11' }], { cniVersion: '1.1.0', name: 'gcnet' });
      for (const id of ['stale', 'keep']) await cni.addNetworkList(list, rtFor(id, '/run/netns/none'));
      const recs: PluginExecRecord[] = [];
      expect(await cni.gcNetworkList(list, [{ containerId: 'keep', ifName: 'eth0' }], (r) => recs.push(r))).toEqual({
        deleted: ['stale'],
        gcSent: true,
      });
      // disableGC: nothing at all, as libcni
      const off = listOf([{ type: 'gc11' }], { cniVersion: '1.1.0', name: 'gcnet', disableGC: true });
      expect(await cni.gcNetworkList(off, [])).toEqual({
        deleted: [],
        gcSent: false,
        note: 'network "gcnet" sets disableGC: nothing was collected',
      });
      expect(cni.cache.list('gcnet').map((c) => c.containerId)).toEqual(['keep']);
      expect(recs.map((r) => [r.command, r.env.CNI_CONTAINERID])).toEqual([
        ['DEL', 'stale'],
        ['GC', ''],
      ]);
      const gc = JSON.parse(readFileSync(join(w.node('node1').host.dataDir, 'gc11-GC'), 'utf8')) as Record<
        string,
        unknown
      >;
      expect(gc).toMatchObject({
        cniVersion: '1.1.0',
        name: 'gcnet',
        type: 'gc11',
        'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }],
      });
      expect(cni.cache.list('gcnet').map((c) => c.containerId)).toEqual(['keep']);
    }));
});

describe('a single-plugin .conf', () => {
  it('a 0.4.0 bridge .conf is upconverted to a one-plugin list and runs SyncPod and KillPod', () =>
    withWorld(1, async (w) => {
      writeConf(w, 'node1', '10-bridge.conf', { cniVersion: '0.4.0', name: 'podnet', ...bridgePlugin(SUBNET) });
      const k = new Kubelet(w);
      const net = k.runtime('node1').loadNetworkConfig().network!;
      expect(net).toMatchObject({ name: 'podnet', cniVersion: '0.4.0', file: '/etc/cni/net.d/10-bridge.conf' });
      expect(net.plugins.map((p) => p.type)).toEqual(['bridge']);
      const t = new Trace();
      const pod = await k.syncPod({ name: 'single', node: 'node1' }, t);
      expect(pod.ip).toMatch(/^10\.244\.1\.\d+$/);
      const add = t.events.find((e) => e.name === 'bridge ADD')!;
      expect(add.inputs!.stdin).toMatchObject({ cniVersion: '0.4.0', name: 'podnet', type: 'bridge' });
      expect(add.outputs!.stdout).toMatchObject({
        cniVersion: '0.4.0',
        ips: [expect.objectContaining({ address: `${pod.ip}/24`, version: '4' })],
      });
      expect(readFileSync(reservation(w, pod.ip), 'utf8')).toContain(pod.sandboxId);
      const kt = new Trace();
      await k.killPod('single', 'default', kt);
      // 0.4.0 DEL gets the cached result as prevResult
      const del = kt.events.find((e) => e.name === 'bridge DEL')!;
      expect((del.inputs!.stdin as { prevResult: unknown }).prevResult).toMatchObject({
        cniVersion: '0.4.0',
        ips: [expect.objectContaining({ address: `${pod.ip}/24` })],
      });
      expect(existsSync(reservation(w, pod.ip))).toBe(false);
      await expectClean(w);
    }));
});

describe('concurrency', () => {
  it(
    '20 pods created concurrently on one node get 20 distinct IPs',
    () =>
      withWorld(1, async (w) => {
        writeConf(w, 'node1', '10-podnet.conflist', conflist([bridgePlugin(SUBNET)]));
        const k = new Kubelet(w);
        const pods = await Promise.all(
          Array.from({ length: 20 }, (_, i) => k.syncPod({ name: `c${i}`, node: 'node1' })),
        );
        expect(new Set(pods.map((p) => p.ip)).size).toBe(20);
        for (const p of pods) {
          expect(p.ip).toMatch(/^10\.244\.1\.\d+$/);
          expect(readFileSync(reservation(w, p.ip), 'utf8')).toContain(p.sandboxId);
        }
        await k.killAll();
        expect(k.pods.size).toBe(0);
        await k.garbageCollect();
        await expectClean(w);
      }),
    120_000,
  );

  it("two ADDs for two containers run at once (libcni has no lock; test/cni-executor-host proves one sandbox's networks overlap)", () =>
    withWorld(1, async (w) => {
      // rendezvous: each ADD waits for the other's mark, so serial ADDs would fail
      await addPlugin(
        w,
        'node1',
        'meet',
        `#!/bin/sh
cat >/dev/null
[ "$CNI_COMMAND" = ADD ] || exit 0
touch /var/lib/cni/meet-$CNI_CONTAINERID
other=one; [ "$CNI_CONTAINERID" = one ] && other=two
i=0
while [ ! -e /var/lib/cni/meet-$other ]; do i=$((i+1)); [ $i -gt 200 ] && { echo '{"code":11,"msg":"never met"}'; exit 1; }; sleep 0.05; done
echo '{"cniVersion":"1.0.0","ips":[{"address":"10.9.0.2/24"}]}'
`,
      );
      const cni = new Kubelet(w).runtime('node1').cni;
      const list = listOf([{ type: 'meet' }]);
      await Promise.all(['one', 'two'].map((id) => cni.addNetworkList(list, rtFor(id, '/run/netns/none'))));
      for (const id of ['one', 'two']) await cni.delNetworkList(list, rtFor(id, '/run/netns/none'));
      expect(cni.cache.list('podnet')).toEqual([]);
    }));
});
