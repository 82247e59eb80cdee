// The pod network lifecycle in a real world: real namespaces, real plugins, real iproute2.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SandboxContainer } from '../src-main/runtime/containerd.js';
import { Kubelet } from '../src-main/runtime/kubelet.js';
import { podLeftovers, strayProcesses } from '../src-main/runtime/leaks.js';
import { Trace, type TraceEvent } from '../src-main/runtime/trace.js';
import { GC_STEPS, KILLPOD_STEPS, podRun, SYNCPOD_STEPS_INTERNAL, withWorld, writeDefaultConf } from './helpers.js';

/** Names of the steps in start order, as "component:name". */
function steps(t: Trace, filter: (e: TraceEvent) => boolean = () => true): string[] {
  return t.events
    .filter(filter)
    .sort((a, b) => a.start - b.start || a.id - b.id)
    .map((e) => `${e.component}:${e.name}`);
}

describe('one pod, internal loopback', () => {
  it('gets eth0 with an IPv4 in the subnet, a default route via the gateway, lo up, and a trace in DESIGN.md order', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const k = new Kubelet(w, { loopback: 'internal' });
      const t = new Trace();
      const pod = await k.syncPod(
        { name: 'web', node: 'node1', containers: [{ name: 'httpd', command: ['httpd', '-f', '-p', '80'] }] },
        t,
      );
      expect(pod.ip).toMatch(/^10\.244\.1\.\d+$/);
      expect(pod.netns).toMatch(/^\/run\/netns\/cni-[0-9a-f-]{36}$/);

      const links = JSON.parse((await podRun(w, 'node1', pod.netns, 'ip -json addr')).stdout) as {
        ifname: string;
        flags: string[];
        addr_info: { family: string; local: string; prefixlen: number }[];
      }[];
      const eth0 = links.find((l) => l.ifname === 'eth0')!;
      const lo = links.find((l) => l.ifname === 'lo')!;
      expect(lo.flags).toContain('UP');
      expect(eth0.flags).toContain('UP');
      expect(eth0.addr_info.find((a) => a.family === 'inet')).toMatchObject({ local: pod.ip, prefixlen: 24 });
      const routes = JSON.parse((await podRun(w, 'node1', pod.netns, 'ip -json route')).stdout) as {
        dst: string;
        gateway?: string;
        dev: string;
      }[];
      expect(routes).toContainEqual(expect.objectContaining({ dst: 'default', gateway: '10.244.1.1', dev: 'eth0' }));

      // The container joined the pod's network: httpd answers on the pod IP from the pod, on localhost.
      const r = await podRun(
        w,
        'node1',
        pod.netns,
        `for i in 1 2 3 4 5 6 7 8 9 10; do wget -S -O /dev/null -T 1 http://${pod.ip}/ 2>&1 | grep -q 'HTTP/1' && echo answered && exit; sleep 0.2; done`,
      );
      expect(r.stdout).toContain('answered');

      expect(steps(t, (e) => e.component !== 'cni' || e.name === 'CNI ADD')).toEqual(SYNCPOD_STEPS_INTERNAL);
      // Each plugin exec is recorded with its exact environment, stdin and stdout.
      const bridge = t.events.find((e) => e.name === 'bridge ADD')!;
      const env = bridge.inputs!.env as Record<string, string>;
      expect(env).toMatchObject({
        CNI_COMMAND: 'ADD',
        CNI_IFNAME: 'eth0',
        CNI_NETNS: pod.netns,
        CNI_PATH: '/opt/cni/bin',
        CNI_CONTAINERID: pod.sandboxId,
      });
      expect(env.CNI_ARGS).toBe(
        `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=${pod.sandboxId};K8S_POD_UID=${pod.uid}`,
      );
      expect(bridge.inputs!.stdin).toMatchObject({ cniVersion: '1.0.0', name: 'podnet', type: 'bridge' });
      expect(bridge.outputs!.stdout).toMatchObject({ ips: [expect.objectContaining({ address: `${pod.ip}/24` })] });
      expect(t.events.find((e) => e.name === 'NewNetNS')!.source!.url).toMatch(
        /containerd\/blob\/v2\.1\.9\/internal\/cri\/server\/sandbox_run\.go#L204$/,
      );
      // portmap is fed bridge's result
      expect(
        (t.events.find((e) => e.name === 'portmap ADD')!.inputs!.stdin as { prevResult: unknown }).prevResult,
      ).toMatchObject({ ips: [expect.objectContaining({ address: `${pod.ip}/24` })] });

      const kt = new Trace();
      await k.killPod('web', 'default', kt);
      expect(steps(kt, (e) => e.component !== 'cni' || e.name === 'CNI DEL')).toEqual(KILLPOD_STEPS);
      // DEL runs the plugins in reverse
      expect(steps(kt, (e) => e.component === 'cni' && e.name !== 'CNI DEL')).toEqual([
        'cni:portmap DEL',
        'cni:bridge DEL',
      ]);
      // KillPod stops the sandbox; its files and the pod's logs stay until the garbage collection
      expect((await podLeftovers(w, 'node1')).items).toEqual([
        `sandbox files /var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/${pod.sandboxId}`,
        `pod logs /var/log/pods/default_web_${pod.uid}`,
      ]);
      const gt = new Trace();
      await k.garbageCollect(gt);
      expect(steps(gt, (e) => e.component !== 'cni' || e.name === 'CNI DEL')).toEqual(GC_STEPS);
      // RemovePodSandbox's second teardown: an empty CNI_NETNS, and no cached result left for a prevResult
      const del2 = gt.events.find((e) => e.name === 'bridge DEL')!;
      expect((del2.inputs!.env as Record<string, string>).CNI_NETNS).toBe('');
      expect(del2.inputs!.stdin).not.toHaveProperty('prevResult');
      expect((await podLeftovers(w, 'node1')).items).toEqual([]);
      expect(await strayProcesses(w)).toEqual([]);
    }));
});

describe('one pod, loopback plugin (containerd default)', () => {
  it('attaches cni-loopback on lo and the pod network on eth0, concurrently, and DELs both', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const k = new Kubelet(w, { loopback: 'plugin' });
      const t = new Trace();
      const pod = await k.syncPod({ name: 'web', node: 'node1' }, t);
      const adds = t.events.filter((e) => e.name === 'CNI ADD');
      expect(adds.map((e) => e.inputs!.network)).toEqual(['cni-loopback', 'podnet']);
      expect(adds.map((e) => e.inputs!.ifName)).toEqual(['lo', 'eth0']);
      // concurrently: the second begins before the first ends
      expect(adds[1]!.start).toBeLessThan(adds[0]!.end!);
      expect(t.events.some((e) => e.name.startsWith('bringUpLoopback'))).toBe(false);
      expect(t.events.find((e) => e.name === 'setupPodNetwork')!.inputs!.loopback).toMatch(
        /^use_internal_loopback = false/,
      );
      const lo = await podRun(w, 'node1', pod.netns, 'ip -o link show lo');
      expect(lo.stdout).toMatch(/LOOPBACK,UP/);
      const loAdd = t.events.find((e) => e.name === 'loopback ADD')!;
      expect((loAdd.inputs!.stdin as { cniVersion: string }).cniVersion).toBe('0.3.1');
      const kt = new Trace();
      await k.killPod('web', 'default', kt);
      expect(kt.events.filter((e) => e.name === 'CNI DEL').map((e) => e.inputs!.network)).toEqual([
        'cni-loopback',
        'podnet',
      ]);
      await k.garbageCollect();
      expect((await podLeftovers(w, 'node1')).items).toEqual([]);
    }));
});

describe('connectivity', () => {
  it('two pods on a node ping each other, and a pod pings its gateway', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const k = new Kubelet(w);
      const a = await k.syncPod({ name: 'a', node: 'node1' });
      const b = await k.syncPod({ name: 'b', node: 'node1' });
      expect(a.ip).not.toBe(b.ip);
      const ab = await podRun(w, 'node1', a.netns, `ping -c 2 -W 2 ${b.ip}`);
      expect(ab.code, ab.stdout + ab.stderr).toBe(0);
      expect(ab.stdout).toMatch(/2 packets received/);
      const gw = await podRun(w, 'node1', b.netns, 'ping -c 1 -W 2 10.244.1.1');
      expect(gw.code, gw.stdout + gw.stderr).toBe(0);
      // the node sees both veths on cni0
      const veths = JSON.parse(
        await w.run({ kind: 'node', node: 'node1' }, ['ip', '-json', 'link', 'show', 'master', 'cni0']),
      ) as { ifname: string }[];
      expect(veths).toHaveLength(2);
      await k.killAll();
      await k.garbageCollect();
      expect((await podLeftovers(w, 'node1')).items).toEqual([]);
    }));
});

describe('DEL releases what ADD took', () => {
  it('removes the host-local reservation and the cache entry, and the cache is libcni cniCacheV1', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const k = new Kubelet(w);
      const pod = await k.syncPod({ name: 'web', node: 'node1' });
      const data = w.node('node1').host.dataDir;
      const reservation = join(data, 'networks', 'podnet', pod.ip);
      expect(readFileSync(reservation, 'utf8')).toContain(pod.sandboxId);
      const cacheFile = join(data, 'results', `podnet-${pod.sandboxId}-eth0`);
      const cached = JSON.parse(readFileSync(cacheFile, 'utf8'));
      expect(cached).toMatchObject({
        kind: 'cniCacheV1',
        containerId: pod.sandboxId,
        ifName: 'eth0',
        networkName: 'podnet',
        netns: pod.netns,
      });
      expect(JSON.parse(Buffer.from(cached.config, 'base64').toString()).name).toBe('podnet');
      expect(cached.cniArgs).toContainEqual(['K8S_POD_NAME', 'web']);
      expect(cached.result.ips[0].address).toBe(`${pod.ip}/24`);
      await k.killPod('web');
      expect(existsSync(reservation)).toBe(false);
      expect(existsSync(cacheFile)).toBe(false);
      expect(readdirSync(join(data, 'networks', 'podnet')).filter((f) => /^\d/.test(f))).toEqual([]);
    }));
});

describe('many pods', () => {
  it(
    '50 pods up and down on 2 nodes, with concurrent pod workers: unique IPs, and every node back to its start',
    () =>
      withWorld(2, async (w) => {
        writeDefaultConf(w, 'node1');
        writeDefaultConf(w, 'node2');
        const k = new Kubelet(w);
        const pods = await Promise.all(
          Array.from({ length: 50 }, (_, i) => k.syncPod({ name: `p${i}`, node: i % 2 ? 'node2' : 'node1' })),
        );
        expect(new Set(pods.map((p) => p.ip)).size).toBe(50);
        for (const p of pods) expect(p.ip.startsWith(p.spec.node === 'node1' ? '10.244.1.' : '10.244.2.')).toBe(true);
        await Promise.all(pods.map((p) => k.killPod(p.spec.name)));
        expect(k.pods.size).toBe(0);
        await k.garbageCollect();
        for (const n of ['node1', 'node2']) expect((await podLeftovers(w, n)).items).toEqual([]);
        expect(await strayProcesses(w)).toEqual([]);
      }),
    120_000,
  );

  it('never runs two operations on one pod at once: a second syncPod of the same pod waits, then is refused', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const k = new Kubelet(w);
      const [first, second] = await Promise.allSettled([
        k.syncPod({ name: 'web', node: 'node1' }),
        k.syncPod({ name: 'web', node: 'node1' }),
      ]);
      expect(first.status).toBe('fulfilled');
      expect(second.status).toBe('rejected');
      expect((second as PromiseRejectedResult).reason.message).toMatch(/pod "default\/web" already exists/);
      await k.killAll();
    }));
});

describe('containers', () => {
  it('runs init containers in order before app containers, which join the pod network; a failing init container fails the pod', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const k = new Kubelet(w);
      const t = new Trace();
      const pod = await k.syncPod(
        {
          name: 'web',
          node: 'node1',
          initContainers: [
            { name: 'wait-net', command: ['sh', '-c', 'ip -o addr show eth0 | grep -q "inet 10.244.1."'] },
            { name: 'second', command: ['true'] },
          ],
          containers: [{ name: 'app', command: ['sleep', '1000'] }],
        },
        t,
      );
      expect(steps(t, (e) => e.component === 'kubelet' && e.parent !== undefined)).toEqual([
        'kubelet:NetworkReady gate',
        'kubelet:PrepareResources',
        'kubelet:GetPodDNS',
        'kubelet:PodReadyToStartContainers',
        'kubelet:init container wait-net',
        'kubelet:init container second',
        'kubelet:start container app',
      ]);
      expect(pod.conditions).toEqual({ PodReadyToStartContainers: true, Initialized: true, Ready: true });
      // the app container is its own PID namespace (its PID 1 is the forwarding init), in the pod's netns
      const app = (pod.containers[0] as SandboxContainer).process;
      expect(app.hasExited).toBe(false);
      const kt = new Trace();
      await k.killPod('web', 'default', kt);
      expect(kt.events.find((e) => e.name === 'kill containers')!.outputs!.outcomes).toEqual([
        'app: exited on SIGTERM',
      ]);

      const e = await k
        .syncPod({ name: 'bad', node: 'node1', initContainers: [{ name: 'fails', command: ['sh', '-c', 'exit 3'] }] })
        .catch((x: Error) => x);
      expect((e as Error).message).toBe('init container fails of pod default/bad failed with exit code 3');
      await k.killPod('bad');
      await k.garbageCollect();
      expect((await podLeftovers(w, 'node1')).items).toEqual([]);
    }));

  it("starts a container as runc would: its init PID 1, the command beside it, /proc read-only, the pod's hostname and files; exec joins it; a missing command exits 127", () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const k = new Kubelet(w);
      const pod = await k.syncPod({
        name: 'box',
        node: 'node1',
        containers: [{ name: 'app', command: ['sleep', '1000'] }],
      });
      const app = pod.containers[0] as SandboxContainer;
      const r = await k
        .runtime('node1')
        .execSync(
          app.id,
          [
            'sh',
            '-c',
            'tr "\\0" " " </proc/1/cmdline; echo; tr "\\0" " " </proc/2/cmdline; echo; hostname; ' +
              'awk \'$2 == "/proc" { print $4 }\' /proc/self/mounts | tail -1 | cut -d, -f1; grep -c "^nameserver" /etc/resolv.conf',
          ],
          0,
        );
      expect(r.exitCode).toBe(0);
      const [init, cmd, host, procMode, nameservers] = r.stdout.split('\n');
      expect(init).toMatch(/container-init .* -- sleep 1000 $/);
      expect(cmd).toBe('sleep 1000 ');
      expect(host).toBe('box');
      expect(procMode).toBe('ro');
      expect(Number(nameservers)).toBeGreaterThan(0);
      const e = await k
        .syncPod({ name: 'nope', node: 'node1', initContainers: [{ name: 'gone', command: ['no-such-command'] }] })
        .catch((x: Error) => x);
      expect((e as Error).message).toBe('init container gone of pod default/nope failed with exit code 127');
      await k.killPod('nope');
      await k.killPod('box');
      await k.garbageCollect();
      expect((await podLeftovers(w, 'node1')).items).toEqual([]);
    }));
});
