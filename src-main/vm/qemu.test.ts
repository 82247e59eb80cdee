// QEMU's command line for the bundled VM, without booting it (test/vm.test.ts and test/e2e/vm.test.ts boot it):
// the one loopback forward, no uplink, the progress folder as the only share, and the accelerator's choice.
import { afterEach, describe, expect, it } from 'vitest';
import { pickAccelerator, progressShare, qemuArgs } from './qemu.js';

const base = {
  arch: 'x86_64',
  accel: 'tcg',
  dir: '/img',
  port: 4321,
  append: 'x',
  memoryMb: 2048,
  pidfile: '/p',
} as const;

describe("QEMU's command line", () => {
  afterEach(() => {
    delete process.env.PODNET_VM_ACCEL;
  });

  it('forwards one loopback port, gives no uplink, and shares only the progress folder, mapped', () => {
    const args = qemuArgs({ ...base, progressDir: '/home/a/progress' });
    expect(args[args.indexOf('-netdev') + 1]).toBe(
      'user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:4321-10.0.2.15:4321',
    );
    expect(args.filter((a) => a === '-virtfs')).toHaveLength(1);
    expect(args[args.indexOf('-virtfs') + 1]).toBe(
      'local,id=progress,path=/home/a/progress,mount_tag=podnet-progress,security_model=mapped-file,writeout=immediate,fmode=0600,dmode=0700',
    );
    // no disk of any kind: the root is the initramfs
    expect(args.some((a) => /^-(drive|hd[a-d]|fsdev|blockdev)$/.test(a))).toBe(false);
    expect(qemuArgs(base)).not.toContain('-virtfs');
  });

  it("doubles a comma in the folder's path (QEMU's option syntax), so it cannot add an option", () => {
    expect(progressShare('/tmp/a,readonly=off,path=/etc')).toMatch(
      /^local,id=progress,path=\/tmp\/a,,readonly=off,,path=\/etc,mount_tag=/,
    );
  });

  it('takes PODNET_VM_ACCEL when it names an accelerator, and refuses anything else', () => {
    process.env.PODNET_VM_ACCEL = 'tcg';
    expect(pickAccelerator('x86_64', 'linux')).toBe('tcg');
    process.env.PODNET_VM_ACCEL = 'fast';
    expect(() => pickAccelerator('x86_64', 'linux')).toThrow(
      /PODNET_VM_ACCEL must be kvm, hvf, whpx or tcg, not "fast"/,
    );
  });

  it('uses TCG for another architecture than the host’s, and HVF or WHPX for its own on macOS and Windows', () => {
    const other = process.arch === 'arm64' ? 'x86_64' : 'arm64';
    expect(pickAccelerator(other, 'darwin')).toBe('tcg');
    const own = process.arch === 'arm64' ? 'arm64' : 'x86_64';
    expect(pickAccelerator(own, 'darwin')).toBe('hvf');
    expect(pickAccelerator(own, 'win32')).toBe('whpx');
  });
});
