// The built CLI, as a user runs it: node bin/podnet.mjs … from the repository root.
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { withWorld, writeDefaultConf } from './helpers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PODNET = join(ROOT, 'bin', 'podnet.mjs');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI on the host, without PODNET_NODE (as a user's shell has it). */
function podnet(args: string[], timeoutMs = 60_000): Promise<Run> {
  const env = { ...process.env };
  delete env.PODNET_NODE;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [PODNET, ...args],
      { cwd: ROOT, env, timeout: timeoutMs, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

/** Asserts each needle appears in `text` after the previous one. */
function expectInOrder(text: string, needles: string[]): void {
  let at = 0;
  for (const n of needles) {
    const i = text.indexOf(n, at);
    expect(i, `"${n}" after offset ${at}`).toBeGreaterThanOrEqual(0);
    at = i + n.length;
  }
}

const noStack = (r: Run) => expect(`${r.stdout}${r.stderr}`).not.toMatch(/\n\s+at /);

describe('podnet doctor', () => {
  it('exits 0 with user namespaces and CNI plugins checked', async () => {
    const r = await podnet(['doctor']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^✓ user namespaces/m);
    expect(r.stdout).toMatch(/^✓ CNI plugins: the pinned set .*bridge speaks CNI 1\.1\.0$/m);
    // the tools labs 10 and 13 need (installed on this machine by scripts/setup.sh)
    for (const tool of ['tcpdump', 'fakeroot', 'dnsmasq']) expect(r.stdout).toMatch(new RegExp(`^✓ ${tool}: /`, 'm'));
    expect(r.stdout).toMatch(/Everything a lab world needs is here\.\n?$/);
  });
});

describe('podnet trace', () => {
  it("prints the lifecycle in order, the pod's addresses, and proof that nothing is left", async () => {
    const r = await podnet(['trace']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expectInOrder(r.stdout, [
      'modelled: containerd 2.1.9 · go-cni 1.1.13 · libcni 1.3.0 · kubelet 1.35; the real CNI plugins 1.9.1+ds1-',
      'SyncPod',
      'NetworkReady gate',
      'PrepareResources',
      'GetPodDNS',
      'RunPodSandbox',
      'NewNetNS',
      'setupPodNetwork',
      'use_internal_loopback = false',
      'CNI ADD',
      'network cni-loopback, lo',
      'CNI ADD',
      'bridge ADD',
      'setupSandboxFiles',
      'start sandbox container (pause)',
      'PodSandboxStatus',
      'PodReadyToStartContainers',
      '$ ip addr',
      'inet 10.244.1.',
      'default via 10.244.1.1',
      'KillPod',
      'StopContainer',
      'StopPodSandbox',
      'CNI DEL',
      'remove netns',
      'GarbageCollect',
      'RemovePodSandbox',
      'CNI DEL',
      'CNI_NETNS=""',
      'evictPodLogsDirectories',
    ]);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.at(-2)).toMatch(/^✓ Nothing left on the nodes: /);
    expect(lines.at(-1)).toMatch(/^✓ World destroyed; the host is unchanged: /);
  });

  it('--json with 2 nodes, 3 pods and the loopback plugin: distinct IPs, no leftovers, no host change', async () => {
    const r = await podnet(['trace', '--json', '--nodes', '2', '--pods', '3', '--loopback', 'plugin']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      scenario: Record<string, unknown>;
      setup: { pod: string; node: string; ip: string; trace: { name: string }[] }[];
      teardown: { pod: string; trace: { name: string }[] }[];
      leftovers: unknown[];
      hostDiff: unknown[];
      ok: boolean;
    };
    expect(report.scenario).toMatchObject({ nodes: 2, pods: 3, loopback: 'plugin', json: true });
    expect(report.setup).toHaveLength(3);
    expect(report.setup.map((s) => s.node)).toEqual(['node1', 'node2', 'node1']);
    expect(new Set(report.setup.map((s) => s.ip)).size).toBe(3);
    for (const s of report.setup) {
      expect(s.ip).toMatch(s.node === 'node1' ? /^10\.244\.1\.\d+$/ : /^10\.244\.2\.\d+$/);
      expect(s.trace.map((e) => e.name)).toContain('loopback ADD');
    }
    for (const t of report.teardown) expect(t.trace.map((e) => e.name)).toContain('loopback DEL');
    expect(report.leftovers).toEqual([]);
    expect(report.hostDiff).toEqual([]);
    expect(report.ok).toBe(true);
  });
});

describe('podnet usage errors', () => {
  it('--config with a trailing comma: exit 2, the file, line and column, and no stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podnet-cli-'));
    try {
      const file = join(dir, 'trailing.conf');
      // line 4: `  "type": "bridge",` — the comma is column 19
      writeFileSync(file, '{\n  "cniVersion": "1.0.0",\n  "name": "podnet",\n  "type": "bridge",\n}\n');
      const r = await podnet(['trace', '--config', file]);
      expect(r.code).toBe(2);
      // the file is named as it will be in the nodes' /etc/cni/net.d: by its base name
      expect(r.stderr).toBe(
        `podnet: ${file}:4:19: invalid JSON: trailing comma: JSON allows no comma after the last member: containerd cannot load this file (libcni: error parsing configuration: invalid character '}' looking for beginning of object key string); as the first file of the config folder it stops containerd's load there, and the node is NotReady\n`,
      );
      expect(r.stdout).toBe('');
      noStack(r);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--pods 0 and an unknown command exit 2 with their reason', async () => {
    const pods = await podnet(['trace', '--pods', '0']);
    expect(pods.code).toBe(2);
    expect(pods.stderr).toBe('podnet: --pods must be a whole number from 1 to 250, not "0"\n');
    noStack(pods);
    const unknown = await podnet(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^podnet: unknown command "frobnicate"\n/);
    noStack(unknown);
  });
});

describe('podnet cni', () => {
  it('refuses to run on the host', async () => {
    const r = await podnet(['cni', 'add', 'demo']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^podnet: podnet cni runs CNI plugins in the current network namespace, so it only runs on a node of a lab world \(PODNET_NODE is not set\)/,
    );
    noStack(r);
  });

  it('add, check, del and version on a node of a world, against its /etc/cni/net.d', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      const node = { kind: 'node' as const, node: 'node1' };
      await w.run(node, ['ip', 'netns', 'add', 'demo']);
      const cli = (...args: string[]) => w.exec(node, [process.execPath, PODNET, ...args], { timeoutMs: 30_000 });

      const add = await cli('cni', 'add', 'demo');
      expect(add.code, add.stderr).toBe(0);
      const result = JSON.parse(add.stdout) as {
        cniVersion: string;
        ips: { address: string; gateway?: string }[];
        interfaces: { name: string; sandbox?: string }[];
      };
      expect(result.cniVersion).toBe('1.0.0');
      const ip = result.ips[0]!.address.split('/')[0]!;
      expect(result.ips[0]!.address).toMatch(/^10\.244\.1\.\d+\/24$/);
      expect(result.ips[0]!.gateway).toBe('10.244.1.1');
      expect(result.interfaces).toContainEqual(expect.objectContaining({ name: 'eth0', sandbox: '/run/netns/demo' }));
      // cnitool's container ID: derived from the netns path
      const id = `podnet-${createHash('sha512').update('/run/netns/demo').digest('hex').slice(0, 20)}`;
      const reservation = join(w.node('node1').host.dataDir, 'networks', 'podnet', ip);
      expect(readFileSync(reservation, 'utf8')).toContain(id);
      const inPod = await w.run({ kind: 'pod', node: 'node1', netns: '/run/netns/demo' }, [
        'ip',
        '-o',
        '-4',
        'addr',
        'show',
        'eth0',
      ]);
      expect(inPod).toContain(`inet ${ip}/24`);

      const check = await cli('cni', 'check', 'demo');
      expect(check.code, check.stderr).toBe(0);

      const del = await cli('cni', 'del', 'demo');
      expect(del.code, del.stderr).toBe(0);
      expect(existsSync(reservation)).toBe(false);
      expect(existsSync(join(w.node('node1').host.dataDir, 'results', `podnet-${id}-eth0`))).toBe(false);

      const version = await cli('cni', 'version', 'bridge');
      expect(version.code, version.stderr).toBe(0);
      expect(version.stdout).toMatch(/^bridge: CNI .*\b1\.0\.0\b/m);
      await w.run(node, ['ip', 'netns', 'delete', 'demo']);
    }));
});

describe('podnet in a node', () => {
  it('is on the PATH of every node, and `podnet cni` runs the node’s config from there', () =>
    withWorld(2, async (w) => {
      writeDefaultConf(w, 'node2');
      const node2 = { kind: 'node' as const, node: 'node2' };
      await w.run(node2, ['ip', 'netns', 'add', 'demo']);
      // by name, as a reader types it: the world's PATH, no path to the app
      const r = await w.exec(node2, ['sh', '-c', 'command -v podnet && podnet cni add demo'], { timeoutMs: 30_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.split('\n')[0]).toBe('/opt/podnet/bin/podnet');
      expect(r.stdout).toMatch(/"address": "10\.244\.2\.\d+\/24"/);
      const inPod = await w.run({ kind: 'pod', node: 'node2', netns: '/run/netns/demo' }, ['ip', '-o', '-4', 'addr']);
      expect(inPod).toMatch(/eth0\s+inet 10\.244\.2\.\d+\/24/);
      expect((await w.exec(node2, ['podnet', 'cni', 'del', 'demo'], { timeoutMs: 30_000 })).code).toBe(0);
      await w.run(node2, ['ip', 'netns', 'delete', 'demo']);
    }));
});

describe('podnet lab shell', () => {
  /** The shell as an unprivileged user runs it, its commands on stdin (no terminal: bash reads them in turn). */
  function shell(args: string[], input: string): Run {
    const r = spawnSync(
      'setpriv',
      ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', process.execPath, PODNET, 'lab', 'shell', ...args],
      { cwd: ROOT, input, encoding: 'utf8', timeout: 90_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
    );
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('opens a shell in the world at step N (earlier solutions applied), as nobody, and ends the world when it exits', () => {
    const r = shell(
      ['labs/03-bridge', '--at', '2', '--on', 'pod/client'],
      'hostname\nip -o -4 addr show eth0\npodnet help | head -1\nexit 7\n',
    );
    // the shell's exit status is the command's
    expect(r.code, r.stderr).toBe(7);
    expect(r.stderr).toContain('Step 2 of 4: Same-node traffic and ARP — a shell on pod/client');
    // step 1's solution made pods web and client: the shell is in client's namespaces
    expect(r.stdout).toMatch(/^client$/m);
    expect(r.stdout).toMatch(/eth0\s+inet 10\.244\.1\.\d+\/24/);
    expect(r.stdout).toContain('podnet — the Kubernetes pod network lifecycle');
    const pid = Number(/world-init PID (\d+)/.exec(r.stderr)?.[1]);
    expect(pid).toBeGreaterThan(1);
    // the world ended with the shell: its init is gone
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe('podnet lab shell: the world has ended.');
  });

  it('refuses a step the lab does not have, and an unknown --on, with what there is', () => {
    const at = shell(['labs/01-network-namespaces', '--at', '9'], '');
    expect(at.code).toBe(2);
    expect(at.stderr).toBe('podnet: --at is a step of the lab, 1 to 3 (or 4: after its last step), not "9"\n');
    const on = shell(['labs/01-network-namespaces', '--on', 'node5'], '');
    expect(on.code).toBe(2);
    expect(on.stderr).toMatch(/podnet: --on node5: no node node5 \(nodes: node1; pods: none\)/);
  });
});
