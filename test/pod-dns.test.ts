// Pod DNS in real worlds: kubelet's GetPodDNS, containerd's setupSandboxFiles, the sandbox's files
// bind-mounted in each container's own mount namespace, a dnsmasq stand-in for CoreDNS behind the
// kube-dns Service IP, as root and as an unprivileged user, and nothing left after KillPod.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Kubelet } from '../src-main/runtime/kubelet.js';
import { Trace } from '../src-main/runtime/trace.js';
import { nodeResolvConf, NODE_PATHS, type Target } from '../src-main/world/world.js';
import { nativeBinary } from '../src-main/world/world-init.js';
import { corednsContainers, kubeDnsRules } from './fixtures/cluster-dns.mjs';
import { expectClean, lastJsonOf, SYNCPOD_STEPS, withWorld, writeDefaultConf } from './helpers.js';

const CHILD = join(import.meta.dirname, 'fixtures/world-child.mjs');
const CLUSTER_FIRST =
  'search default.svc.cluster.local svc.cluster.local cluster.local lab.example\nnameserver 10.96.0.10\noptions ndots:5\n';

interface DnsReport {
  getent: { code: number; out: string };
  containerLog: string;
  dnsLog: string;
  left: string[];
  stray: string[];
  error?: string;
}

function dnsChild(asNobody: boolean): DnsReport {
  const argv = ['env', '-i', `PATH=${process.env.PATH}`, 'HOME=/tmp', process.execPath, CHILD, 'dns'];
  return lastJsonOf<{ report: DnsReport }>(argv, asNobody).report;
}

describe.each([
  ['as root', false],
  ['as an unprivileged user (nobody)', true],
])('pod DNS, %s', (_name, asNobody) => {
  it("a container sees the pod's resolv.conf and hostname, resolves a Service name through 10.96.0.10 and the coredns pod, and KillPod leaves nothing", () => {
    const r = dnsChild(asNobody);
    expect(r.error).toBeUndefined();
    // the container's own view, as its log has it (CRI log lines: time, stream, tag, text)
    const lines = r.containerLog
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(' ').slice(3).join(' '));
    expect(lines.join('\n') + '\n').toBe(CLUSTER_FIRST + 'hostname=client\n');
    expect(r.containerLog).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z stdout F search /);
    expect(r.getent.code).toBe(0);
    expect(r.getent.out).toMatch(/^10\.96\.0\.20\s+STREAM web\.default\.svc\.cluster\.local/);
    // 4 dots < ndots 5: every search domain first, the name as written last, and only it found
    const asked = [...r.dnsLog.matchAll(/query\[A\] (\S+)/g)].map((m) => m[1]);
    expect(asked).toEqual(
      ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'lab.example', ''].map((d) =>
        d ? `web.default.svc.cluster.local.${d}` : 'web.default.svc.cluster.local',
      ),
    );
    expect(r.dnsLog).toContain('config web.default.svc.cluster.local is 10.96.0.20');
    expect(r.left).toEqual([]);
    expect(r.stray).toEqual([]);
  });
});

describe('pod DNS in the runtime', () => {
  it('SyncPod runs GetPodDNS, then setupSandboxFiles after the network and before the pause; each policy gets its resolv.conf', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const k = new Kubelet(w);
      const t = new Trace();
      const web = await k.syncPod(
        { name: 'web', node: 'node1', containers: [{ name: 'httpd', command: ['httpd', '-f', '-p', '80'] }] },
        t,
      );
      expect(
        t.events
          .filter((e) => e.component !== 'cni' || !e.name.includes(' ') || e.name.startsWith('CNI'))
          .map((e) => `${e.component}:${e.name}`),
      ).toEqual(SYNCPOD_STEPS);
      const files = t.events.find((e) => e.name === 'setupSandboxFiles')!;
      expect(files.outputs).toMatchObject({ hostname: 'web', 'resolv.conf': CLUSTER_FIRST });
      expect(t.events.find((e) => e.name === 'GetPodDNS')!.outputs).toMatchObject({
        dnsConfig: { servers: ['10.96.0.10'], options: ['ndots:5'] },
      });

      const other = await k.syncPod({
        name: 'other',
        namespace: 'team-a',
        node: 'node1',
        containers: [{ name: 'c', command: ['sleep', '1000'] }],
      });
      const byDefault = await k.syncPod({
        name: 'nodedns',
        node: 'node1',
        dnsPolicy: 'Default',
        containers: [{ name: 'c', command: ['sleep', '1000'] }],
      });
      const none = await k.syncPod({
        name: 'none',
        node: 'node1',
        dnsPolicy: 'None',
        dnsConfig: {
          nameservers: ['10.96.0.10'],
          searches: ['default.svc.cluster.local'],
          options: [{ name: 'ndots', value: '1' }],
        },
        containers: [{ name: 'c', command: ['sleep', '1000'] }],
      });
      const inPod = (p: typeof web, cmd: string) =>
        w.run({ kind: 'pod', node: 'node1', netns: p.netns, sandboxPid: p.sandboxPid }, ['sh', '-c', cmd]);
      const node1 = w.node('node1');
      expect(await w.run({ kind: 'node', node: 'node1' }, ['cat', '/etc/resolv.conf'])).toBe(
        nodeResolvConf(node1.underlayIp),
      );
      expect(await inPod(web, 'cat /etc/resolv.conf; hostname; cat /etc/hostname')).toBe(CLUSTER_FIRST + 'web\nweb\n');
      expect(await inPod(other, 'head -n 1 /etc/resolv.conf')).toBe(
        'search team-a.svc.cluster.local svc.cluster.local cluster.local lab.example\n',
      );
      // the node's settings, as containerd writes a DNSConfig
      expect(await inPod(byDefault, 'cat /etc/resolv.conf')).toBe(
        `search lab.example\nnameserver ${node1.underlayIp}\n`,
      );
      expect(await inPod(none, 'cat /etc/resolv.conf')).toBe(
        'search default.svc.cluster.local\nnameserver 10.96.0.10\noptions ndots:1\n',
      );
      // the node keeps its own files; the pod's are only in the pod's mount namespaces
      expect(await w.run({ kind: 'node', node: 'node1' }, ['hostname'])).toBe('node1\n');
      // a running container (not the pause) has them too: its own mount namespace, seen through /proc
      const httpd = web.containers[0]!.pid;
      expect(
        await w.run({ kind: 'node', node: 'node1' }, [
          'sh',
          '-c',
          `cat /proc/${httpd}/root/etc/resolv.conf; readlink /proc/${httpd}/ns/mnt /proc/${web.sandboxPid}/ns/mnt /proc/${httpd}/ns/uts /proc/${web.sandboxPid}/ns/uts`,
        ]),
      ).toMatch(
        new RegExp(
          `^${CLUSTER_FIRST.replace(/\./g, '\\.')}mnt:\\[(\\d+)\\]\\nmnt:\\[(?!\\1\\])\\d+\\]\\nuts:\\[(\\d+)\\]\\nuts:\\[\\2\\]\\n$`,
        ),
      );
      // the sandbox's files are on the node, where containerd keeps them
      expect(
        (await w.run({ kind: 'node', node: 'node1' }, ['ls', `${NODE_PATHS.sandboxesDir}/${web.sandboxId}`]))
          .split('\n')
          .filter(Boolean),
      ).toEqual(['hostname', 'hosts', 'resolv.conf']);
      // a pod terminal enters the pod's own mounts (the argv node-pty runs)
      const argv = w.enterArgv({ kind: 'pod', node: 'node1', netns: web.netns, sandboxPid: web.sandboxPid });
      expect(execFileSync(argv[0]!, [...argv.slice(1), 'cat', '/etc/resolv.conf'], { encoding: 'utf8' })).toBe(
        CLUSTER_FIRST,
      );
      await k.killAll();
      await k.garbageCollect();
      await expectClean(w);
      expect(readdirSync(node1.host.sandboxesDir)).toEqual([]);
      expect(readdirSync(node1.host.podLogsDir)).toEqual([]);
    }));

  it('the coredns pod answers a pod through the kube-dns Service IP; a Default pod asks the node, where nothing answers', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const k = new Kubelet(w);
      const dns = await k.syncPod({
        name: 'coredns',
        namespace: 'kube-system',
        node: 'node1',
        containers: corednsContainers({ 'web.default.svc.cluster.local': '10.96.0.20' }),
      });
      const client = await k.syncPod({
        name: 'client',
        node: 'node1',
        containers: [{ name: 'c', command: ['sleep', '1000'] }],
      });
      const byDefault = await k.syncPod({
        name: 'nodedns',
        node: 'node1',
        dnsPolicy: 'Default',
        containers: [{ name: 'c', command: ['sleep', '1000'] }],
      });
      const at = (p: typeof client): Target => ({
        kind: 'pod',
        node: 'node1',
        netns: p.netns,
        sandboxPid: p.sandboxPid,
      });
      // before kube-proxy's rules: nothing has 10.96.0.10
      expect((await w.exec(at(client), ['getent', 'ahostsv4', 'web.default.svc.cluster.local.'])).code).not.toBe(0);
      await w.run({ kind: 'node', node: 'node1' }, ['sh', '-ec', kubeDnsRules(dns.ip)]);
      expect(await w.run(at(client), ['getent', 'ahostsv4', 'web'])).toMatch(/^10\.96\.0\.20\s/);
      const started = Date.now();
      const r = await w.exec(at(byDefault), ['getent', 'ahostsv4', 'web.default.svc.cluster.local']);
      expect(r.code).toBe(2);
      // refused at once (the node's own address), not a resolver timeout
      expect(Date.now() - started).toBeLessThan(3000);
      await k.killAll();
      await k.garbageCollect();
      await expectClean(w);
    }));

  it('a pause that cannot start undoes setupSandboxFiles with the rest (the files, CNI DEL, the netns)', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const k = new Kubelet(w);
      const t = new Trace();
      // a hostname longer than the kernel's 64 characters: sethostname fails in the pause
      const err = await k
        .runtime('node1')
        .runPodSandbox({ name: 'web', namespace: 'default', uid: 'u1', hostname: 'h'.repeat(70) }, t)
        .then(
          () => undefined,
          (e: Error) => e,
        );
      expect(err?.message).toMatch(/^failed to start sandbox container task "[0-9a-f]{64}": .*hostname/);
      const undone = t.events.filter((e) => e.undo).map((e) => e.name);
      expect(undone).toEqual([
        'undo: remove sandbox files',
        'undo: teardown pod network (CNI DEL)',
        'undo: remove network namespace',
        'undo: release sandbox name',
      ]);
      expect(readdirSync(w.node('node1').host.sandboxesDir)).toEqual([]);
      await expectClean(w);
    }));

  it("binds a node's resolv.conf over a symlink whose target is missing (systemd-resolved's stub), creating it on the node's /run", () =>
    withWorld(1, async (w) => {
      const node = { kind: 'node', node: 'node1' } as const;
      // node-holder's bind-over, as every node's start runs it for /etc/resolv.conf
      const bindOver = (src: string, target: string) => [nativeBinary('node-holder'), 'bind-over', src, target];
      const script = [
        'printf "nameserver 192.0.2.99\\n" > /run/src',
        'mkdir -p /run/etc',
        'ln -s ../systemd/resolve/stub-resolv.conf /run/etc/resolv.conf',
      ];
      await w.run(node, ['sh', '-ec', script.join('\n')]);
      await w.run(node, bindOver('/run/src', '/run/etc/resolv.conf'));
      expect(await w.run(node, ['sh', '-ec', 'cat /run/etc/resolv.conf; readlink /run/etc/resolv.conf'])).toBe(
        'nameserver 192.0.2.99\n../systemd/resolve/stub-resolv.conf\n',
      );
      // a missing target that cannot be made (the host's files are read-only) is said plainly
      await w.run(node, ['ln', '-s', '/usr/podnet-missing/resolv.conf', '/run/bad']);
      const bad = await w.exec(node, bindOver('/run/src', '/run/bad'));
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(
        '/run/bad links to /usr/podnet-missing/resolv.conf, which is missing and cannot be made',
      );
      expect(existsSync('/usr/podnet-missing')).toBe(false);
      // every node's /etc/resolv.conf is its own file, whatever the host's is
      expect(readFileSync(w.node('node1').host.resolvConf, 'utf8')).toBe(
        await w.run(node, ['cat', '/etc/resolv.conf']),
      );
    }));
});
