// The bundled VM (docs/vm.md), for real: QEMU boots the image `podnet vm build` made (TCG on a machine
// without usable KVM), and `podnet trace --vm` runs the walkthrough in the guest and leaves nothing on the host.
// Web mode, the progress share and a killed app's VM: test/e2e/vm.test.ts. Their own test group: npm run test:vm.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { hostArch } from '../src-main/vm/guest-spec.js';
import { IMAGE_FILES, imageDir } from '../src-main/vm/image.js';
import { pickAccelerator } from '../src-main/vm/qemu.js';
import { podnetQemus } from './helpers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PODNET = join(ROOT, 'bin', 'podnet.mjs');

const vmTemps = () => readdirSync(tmpdir()).filter((f) => f.startsWith('podnet-vm-'));

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
