// The bundled VM (docs/vm.md), for real: QEMU boots the image `podnet vm build` made (TCG on a machine
// without /dev/kvm), `podnet trace --vm` runs the walkthrough in the guest and leaves nothing on the host,
// and a killed app takes its VM with it. Its own test group: npm run test:vm (the image is built first).
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { hostArch } from '../src-main/vm/guest-spec.js';
import { IMAGE_FILES, imageDir } from '../src-main/vm/image.js';
import { pickAccelerator } from '../src-main/vm/qemu.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PODNET = join(ROOT, 'bin', 'podnet.mjs');

/** QEMU processes of podnet's VMs on this host in `mode` (their kernel command line names it). */
function podnetQemus(mode: 'run' | 'web'): number[] {
  const pids: number[] = [];
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8');
      if (cmd.startsWith('qemu-system') && cmd.includes(`podnet.mode=${mode}`)) pids.push(Number(p));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}
const vmTemps = () => readdirSync(tmpdir()).filter((f) => f.startsWith('podnet-vm-'));
const alive = (pid: number) => existsSync(`/proc/${pid}`);

beforeAll(() => {
  if (!existsSync(join(imageDir(hostArch()), IMAGE_FILES.initrd)))
    throw new Error('no VM image: run "npm run vm:build" (npm run test:vm builds it first)');
});

describe('podnet trace --vm', () => {
  it("runs the walkthrough in the guest, under the guest's kernel, and leaves nothing on the host", async () => {
    const qemusBefore = podnetQemus('run');
    const tempsBefore = vmTemps();
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((res) =>
      execFile(
        process.execPath,
        [PODNET, 'trace', '--vm', '--json'],
        { cwd: ROOT, timeout: 1_200_000, maxBuffer: 64 << 20 },
        (e, stdout, stderr) => res({ code: e ? ((e as { code?: number }).code ?? null) : 0, stdout, stderr }),
      ),
    );
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    const report = JSON.parse(r.stdout);
    // the guest's kernel is Debian's, not this host's
    expect(report.vm.kernel).toMatch(/^\d+\.\d+\.\d+.*-(amd64|arm64)$/);
    expect(report.vm.kernel).not.toBe(readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
    expect(report.vm.accelerator).toBe(pickAccelerator(hostArch()));
    // the same trace the host runs: SyncPod gave the pod an address on eth0, KillPod and GC left nothing
    expect(report.ok).toBe(true);
    expect(report.setup[0].ip).toMatch(/^10\.\d+\.\d+\.\d+$/);
    expect(report.setup[0].ipAddr).toMatch(/eth0@if\d+:.*\n(.*\n)*\s+inet 10\./);
    expect(report.setup[0].trace.length).toBeGreaterThan(5);
    expect(report.leftovers).toEqual([]);
    expect(report.hostDiff).toEqual([]);
    // the VM powered off: no QEMU of ours, no temporary folder of it
    expect(podnetQemus('run').filter((p) => !qemusBefore.includes(p))).toEqual([]);
    expect(vmTemps().filter((t) => !tempsBefore.includes(t))).toEqual([]);
  }, 1_300_000);
});

describe('the VM in web mode', () => {
  it('serves the engine on a loopback port with a token, and dies with an app killed without a word', async () => {
    // an "app": boots the VM, says QEMU's PID and the engine's URL, then waits to be killed
    const script = `
      const { bootVm, within } = await import(${JSON.stringify(join(ROOT, 'out/src-main/vm/qemu.js'))});
      const vm = await bootVm({ mode: 'web' });
      const ready = await within(vm.ready, 1_000_000, 'the engine', vm);
      console.log(JSON.stringify({ pid: vm.pid, url: ready.url, port: ready.port, token: ready.token }));
      setInterval(() => {}, 1000);`;
    const app = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    app.stdout.setEncoding('utf8');
    const info = await new Promise<{ pid: number; url: string; port: number; token: string }>((res, rej) => {
      app.stdout.on('data', (d: string) => {
        out += d;
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) res(JSON.parse(line));
      });
      app.once('exit', (c) => rej(new Error(`the app exited (${c}) before the engine was ready: ${out}`)));
    });
    try {
      expect(alive(info.pid)).toBe(true);
      // QEMU listens on loopback only, and forwards nothing else
      const qemuCmd = readFileSync(`/proc/${info.pid}/cmdline`, 'utf8').split('\0');
      const netdev = qemuCmd[qemuCmd.indexOf('-netdev') + 1]!;
      expect(netdev).toMatch(/restrict=on/);
      expect(netdev.match(/hostfwd=/g)).toHaveLength(1);
      expect(netdev).toMatch(new RegExp(`hostfwd=tcp:127\\.0\\.0\\.1:${info.port}-`));
      // the guest's engine serves the page on the forwarded port (the page takes the token from its URL)
      const page = await fetch(info.url);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<div id="root"|<!doctype html>/i);
      // another Host name is refused, as the browser host does on the host
      // (node:http: fetch does not let a caller set Host)
      const other = await new Promise<number>((res, rej) =>
        get({ host: '127.0.0.1', port: info.port, path: '/', headers: { Host: 'evil.example' } }, (r) => {
          r.resume();
          res(r.statusCode ?? 0);
        }).once('error', rej),
      );
      expect(other).toBe(403);
    } finally {
      app.kill('SIGKILL');
    }
    // the app died without a word: its watchdog kills QEMU
    const t0 = Date.now();
    while (alive(info.pid) && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 200));
    expect(alive(info.pid)).toBe(false);
  }, 1_100_000);
});
