// podnet cni lint, as a user runs it: on the host (files only) and on a node of a world (with the node's checks).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { withWorld, writeConf, writeDefaultConf } from './helpers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PODNET = join(ROOT, 'bin', 'podnet.mjs');
const CORPUS = 'test/fixtures/cni-corpus';

function podnet(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.PODNET_NODE;
  return new Promise((resolve) => {
    execFile(process.execPath, [PODNET, ...args], { cwd: ROOT, env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

describe('podnet cni lint', () => {
  it('prints file:line:col: warning: message for each problem, worded as what containerd does', async () => {
    const r = await podnet([
      'cni',
      'lint',
      `${CORPUS}/good-bridge-host-local.conflist`,
      `${CORPUS}/bad-gateway-outside.conflist`,
      `${CORPUS}/bad-trailing-comma.conflist`,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      `${CORPUS}/good-bridge-host-local.conflist: ok`,
      `${CORPUS}/bad-gateway-outside.conflist:16:26: warning: containerd loads this file (libcni decodes only name, cniVersion, type and the other generic fields), but ADD will fail: gateway 10.244.2.1 is outside the subnet 10.244.1.0/24`,
      `${CORPUS}/bad-trailing-comma.conflist:7:23: warning: invalid JSON: trailing comma: JSON allows no comma after the last member: containerd cannot load this file (libcni: error parsing configuration list: invalid character '}' looking for beginning of object key string); as the first file of the config folder it stops containerd's load there, and the node is NotReady`,
    ]);
    expect(r.stderr).toBe('0 errors, 2 warnings\n');
  });

  it('exits 0 for clean files and with warnings only; 1 for an unreadable file; 2 without files', async () => {
    expect((await podnet(['cni', 'lint', `${CORPUS}/good-ptp-static.conf`])).code).toBe(0);
    const missing = await podnet(['cni', 'lint', `${CORPUS}/nope.conflist`]);
    expect([missing.code, missing.stderr]).toEqual([
      1,
      `${CORPUS}/nope.conflist: cannot read: ENOENT\n1 error, 0 warnings\n`,
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'podnet-lint-'));
    try {
      const f = join(dir, '10-warn.conflist');
      writeFileSync(
        f,
        JSON.stringify(
          {
            cniVersion: '1.0.0',
            name: 'w',
            plugins: [{ type: 'ptp', ipam: { type: 'host-local', subnet: '10.9.0.0/24' } }, { type: 'portmap' }],
          },
          null,
          2,
        ),
      );
      const warned = await podnet(['cni', 'lint', f]);
      expect([warned.code, warned.stdout, warned.stderr]).toEqual([
        0,
        `${f}:13:15: warning: portmap without "capabilities": {"portMappings": true} never receives the pod's ports, so it maps nothing\n`,
        '0 errors, 1 warning\n',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const none = await podnet(['cni', 'lint']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^podnet: usage: podnet cni lint FILE/);
    expect((await podnet(['help'])).stdout).toContain('podnet cni lint FILE...');
  });

  it('on a node: a missing plugin binary, an unsupported cniVersion and a file that sorts after the network', () =>
    withWorld(1, async (w) => {
      writeDefaultConf(w);
      writeConf(w, 'node1', '20-x.conflist', {
        cniVersion: '1.1.0',
        name: 'x',
        plugins: [{ type: 'bridge', ipam: { type: 'host-local', subnet: '10.250.0.0/24' } }, { type: 'flannel' }],
      });
      const r = await w.exec(
        { kind: 'node', node: 'node1' },
        [process.execPath, PODNET, 'cni', 'lint', '/etc/cni/net.d/20-x.conflist'],
        { timeoutMs: 30_000 },
      );
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.split('\n').filter(Boolean);
      expect(lines[0]).toBe(
        '/etc/cni/net.d/20-x.conflist:1:1: warning: not the pod network of node1: containerd reads only the first file, 10-podnet.conflist, which loads, and never reads this one',
      );
      // the world's plugins speak 1.1.0 (1.9.1) or not (the system's 1.1.1): either way no error, only what ADD would do
      expect(lines.every((l) => /:\d+:\d+: warning: /.test(l))).toBe(true);
      expect(lines).toContain(
        '/etc/cni/net.d/20-x.conflist:13:15: warning: plugin binary "flannel" is not in /opt/cni/bin on node1: containerd loads this file and the node stays Ready, but ADD fails with "failed to find plugin "flannel" in path [/opt/cni/bin]"',
      );
    }));
});
