// Boots the bundled VM under QEMU: the best accelerator this host has (KVM, HVF, WHPX, else TCG), the
// serial console on a pipe, user-mode networking with no uplink (restrict=on) and one forward: the engine's
// port, on 127.0.0.1 only. The VM ends with the app: stop() kills QEMU by its PID, and a watchdog kills it
// when this process dies without a word (its stdin pipe closes). The learner's progress folder on the host is
// the one folder the guest may write (a 9p share), so progress outlives the throwaway guest.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { GUEST_IP, MARK, PROGRESS_TAG } from './guest-init.js';
import { ARCHES, hostArch, type Arch } from './guest-spec.js';
import { IMAGE_FILES, imageDir } from './image.js';

export class VmError extends Error {
  override name = 'VmError';
}

const ACCELERATORS = ['kvm', 'hvf', 'whpx', 'tcg'] as const;
export type Accelerator = (typeof ACCELERATORS)[number];

/**
 * The fastest accelerator QEMU can use here for `arch`: hardware only for the host's own architecture.
 * PODNET_VM_ACCEL (kvm, hvf, whpx, tcg) overrides the choice.
 */
export function pickAccelerator(arch: Arch, platform = process.platform): Accelerator {
  const forced = process.env.PODNET_VM_ACCEL;
  if (forced) {
    const named = ACCELERATORS.find((a) => a === forced);
    if (!named) throw new VmError(`PODNET_VM_ACCEL must be kvm, hvf, whpx or tcg, not "${forced}"`);
    return named;
  }
  if (arch !== hostArch()) return 'tcg';
  if (platform === 'linux') {
    try {
      accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    } catch {
      return 'tcg';
    }
    // a /dev/kvm without the CPU's virtualisation (a sandbox's, or a VM's without nested virtualisation)
    // makes QEMU abort at the first MSR it sets: on x86 the CPU must show vmx or svm
    if (arch === 'x86_64' && !/^flags\s*:.*\b(vmx|svm)\b/m.test(readCpuinfo())) return 'tcg';
    return 'kvm';
  }
  if (platform === 'darwin') return 'hvf';
  if (platform === 'win32') return 'whpx';
  return 'tcg';
}

function readCpuinfo(): string {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return '';
  }
}

/** A free TCP port on 127.0.0.1 (the guest's engine listens on the same number, so the page's Host matches). */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

export interface BootOptions {
  arch?: Arch;
  /** web: the engine's web host; run: one podnet command, then power off */
  mode: 'web' | 'run';
  /** podnet's arguments in run mode (no spaces or commas: they travel on the kernel's command line) */
  run?: string[];
  memoryMb?: number;
  out?: string;
  /**
   * The host's lab progress folder, shared with the guest (9p) where its engine keeps progress: the only
   * host folder the guest can write. Not on Windows (QEMU has no 9p server there): progress stays in the guest.
   */
  progressDir?: string;
  /** every console line, as it comes */
  onConsole?: (line: string) => void;
}

export interface Ready {
  url: string;
  port: number;
  token: string;
}

export interface Vm {
  readonly accelerator: Accelerator;
  /** QEMU's own PID */
  readonly pid: number;
  /** the guest's `uname -r`, once its init printed it */
  readonly kernel: Promise<string>;
  /** web mode: the engine listens (on 127.0.0.1:port on this host) */
  readonly ready: Promise<Ready>;
  /** run mode: the command's output lines and exit status */
  readonly result: Promise<{ lines: string[]; status: number }>;
  /** QEMU exited (its exit code) */
  readonly exited: Promise<number | null>;
  /** the console's last lines, for error messages */
  tail(): string;
  /** Ends the VM (QEMU killed by PID); resolves when QEMU is gone and nothing of it is left. */
  stop(): Promise<void>;
}

/** The QEMU binary for `arch`, or a VmError saying how to install it. */
export function qemuBinary(arch: Arch): string {
  const name = ARCHES[arch].qemu + (process.platform === 'win32' ? '.exe' : '');
  const r = spawnSync(name, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    const how =
      process.platform === 'darwin'
        ? 'brew install qemu'
        : process.platform === 'win32'
          ? 'winget install SoftwareFreedomConservancy.QEMU'
          : `sudo apt-get install ${arch === 'x86_64' ? 'qemu-system-x86' : 'qemu-system-arm'}`;
    throw new VmError(`${name} is not installed: ${how}`);
  }
  return name;
}

export function qemuArgs(o: {
  arch: Arch;
  accel: Accelerator;
  dir: string;
  port: number;
  append: string;
  memoryMb: number;
  pidfile: string;
  progressDir?: string;
}): string[] {
  const cpu = o.accel === 'tcg' ? 'max' : 'host';
  const smp = Math.max(1, Math.min(2, cpus().length));
  const machine = o.arch === 'x86_64' ? ['-machine', 'q35'] : ['-machine', 'virt'];
  return [
    ...['-nodefaults', '-no-user-config', '-nographic', '-monitor', 'none', '-no-reboot'],
    ...machine,
    // TCG runs both vCPUs in one thread: with a thread each, the guest kernel's live code patching (static
    // keys) raced the other vCPU here once (an oops in sched_clock_cpu mid-instruction, a panic at 1.5 s)
    ...['-accel', o.accel === 'tcg' ? 'tcg,thread=single' : o.accel, '-cpu', cpu, '-smp', String(smp)],
    ...['-m', String(o.memoryMb)],
    ...['-kernel', join(o.dir, IMAGE_FILES.kernel), '-initrd', join(o.dir, IMAGE_FILES.initrd)],
    ...['-append', o.append],
    ...['-chardev', 'stdio,id=console,signal=off', '-serial', 'chardev:console'],
    // no uplink: the guest reaches nothing; the host reaches only the engine's port, on loopback
    ...['-netdev', `user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:${o.port}-${GUEST_IP}:${o.port}`],
    ...['-device', 'virtio-net-pci,netdev=net0,romfile=', '-device', 'virtio-rng-pci'],
    ...(o.progressDir ? ['-virtfs', progressShare(o.progressDir)] : []),
    ...['-pidfile', o.pidfile],
  ];
}

/**
 * The progress folder as QEMU's 9p share. mapped-file: what the guest creates is a plain file (0600) or folder
 * (0700) of this user's, its owners, modes, symlinks and device nodes only recorded beside it (.virtfs_metadata),
 * so the guest's root gets no setuid file, device or link out onto the host; QEMU's local backend resolves every
 * path below the folder without following links out of it. writeout=immediate: a write is on the host's disk
 * before the guest hears it is done.
 */
export function progressShare(dir: string): string {
  // QEMU's option syntax: a comma in a value is doubled
  const path = resolve(dir).replace(/,/g, ',,');
  return `local,id=progress,path=${path},mount_tag=${PROGRESS_TAG},security_model=mapped-file,writeout=immediate,fmode=0600,dmode=0700`;
}

/** Boots the image built for `arch`; throws a VmError when there is none or QEMU is missing. */
export async function bootVm(opts: BootOptions): Promise<Vm> {
  const arch = opts.arch ?? hostArch();
  const dir = imageDir(arch, opts.out);
  if (!existsSync(join(dir, IMAGE_FILES.initrd)))
    throw new VmError(`no ${arch} VM image in ${dir}: build it first with "podnet vm build" (npm run vm:build)`);
  const qemu = qemuBinary(arch);
  const accel = pickAccelerator(arch);
  const port = await freePort();
  const run = opts.run ?? [];
  const bad = run.find((a) => /[\s,"'\\]/.test(a));
  if (bad !== undefined) throw new VmError(`"${bad}" cannot be passed to the VM (no spaces, commas or quotes)`);
  const console = arch === 'x86_64' ? 'ttyS0' : 'ttyAMA0';
  const progressDir = opts.progressDir && process.platform !== 'win32' ? resolve(opts.progressDir) : undefined;
  if (progressDir) mkdirSync(progressDir, { recursive: true, mode: 0o700 });
  const append = [
    `console=${console}`,
    'quiet',
    'loglevel=3',
    'panic=1',
    `podnet.mode=${opts.mode}`,
    `podnet.port=${port}`,
    // under emulation every exec is slow: the engine's waits for its own helpers scale with it
    ...(accel === 'tcg' ? ['podnet.slow=10'] : []),
    ...(progressDir ? ['podnet.progress=9p'] : []),
    ...(run.length ? [`podnet.run=${run.join(',')}`] : []),
  ].join(' ');
  const temp = mkdtempSync(join(tmpdir(), 'podnet-vm-'));
  const pidfile = join(temp, 'qemu.pid');
  const args = qemuArgs({
    arch,
    accel,
    dir,
    port,
    append,
    memoryMb: opts.memoryMb ?? 2048,
    pidfile,
    ...(progressDir ? { progressDir } : {}),
  });
  let child: ChildProcess;
  if (process.platform === 'win32') {
    child = spawn(qemu, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
  } else {
    // the watchdog: QEMU runs beside a reader of this process's pipe; EOF (this process died) kills QEMU
    // (trap : PIPE — dash reports the killed QEMU on stderr, a pipe to the dead app: SIGPIPE would end it before rm)
    const watchdog =
      'trap : PIPE; exec 3<&0; "$@" </dev/null & q=$!; (cat <&3 >/dev/null; kill -9 $q 2>/dev/null) & exec 3<&-; wait $q; s=$?; rm -rf "$PODNET_VM_TEMP"; exit $s';
    // …and removes the VM's temporary folder even when this process is not there to do it
    child = spawn('/bin/sh', ['-c', watchdog, 'podnet-vm', qemu, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PODNET_VM_TEMP: temp },
    });
  }
  const lines: string[] = [];
  let buf = '';
  let kernelOk: (v: string) => void = () => {};
  let readyOk: (r: Ready) => void = () => {};
  let resultOk: (r: { lines: string[]; status: number }) => void = () => {};
  const fails: ((e: Error) => void)[] = [];
  const kernel = new Promise<string>((res, rej) => ((kernelOk = res), fails.push(rej)));
  const ready = new Promise<Ready>((res, rej) => ((readyOk = res), fails.push(rej)));
  const result = new Promise<{ lines: string[]; status: number }>((res, rej) => ((resultOk = res), fails.push(rej)));
  for (const p of [kernel, ready, result]) p.catch(() => {}); // a caller awaits only what its mode gives
  let output: string[] | undefined;
  const onLine = (raw: string) => {
    // eslint-disable-next-line no-control-regex
    const line = raw.replace(/\r/g, '').replace(/\x1b(\[[0-9;?]*[A-Za-z]|[A-Za-z])/g, '');
    lines.push(line);
    if (lines.length > 400) lines.shift();
    opts.onConsole?.(line);
    // PODNET_VM_CONSOLE=1: the guest's whole console on stderr, for finding why a boot fails
    if (process.env.PODNET_VM_CONSOLE) process.stderr.write(`[vm] ${line}\n`);
    if (line.includes(MARK.kernel)) kernelOk(line.slice(line.indexOf(MARK.kernel) + MARK.kernel.length).trim());
    else if (line.startsWith(MARK.ready)) {
      const m = /port=(\d+) token=(\S+)/.exec(line);
      if (m) readyOk({ port, token: m[2]!, url: `http://127.0.0.1:${port}/?token=${m[2]!}` });
    } else if (line === MARK.begin) output = [];
    else if (line.startsWith(MARK.end) && output) {
      resultOk({ lines: output, status: Number(line.slice(MARK.end.length)) });
      output = undefined;
    } else if (output) output.push(line);
  };
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const tail = () => [...lines.slice(-30), ...(stderr.trim() ? [`(QEMU) ${stderr.trim()}`] : [])].join('\n');
  const exited = new Promise<number | null>((res) =>
    child.once('exit', (code) => {
      if (buf) onLine(buf);
      child.stdin?.end();
      const why = new VmError(
        `the VM ended (QEMU exit ${code}) before it was done; its console's last lines:\n${tail()}`,
      );
      for (const f of fails) f(why);
      rmSync(temp, { recursive: true, force: true });
      res(code);
    }),
  );
  child.once('error', (e) => {
    for (const f of fails) f(new VmError(`QEMU could not start: ${e.message}`));
  });
  const qemuPid = (): number | undefined => {
    try {
      return Number(readFileSync(pidfile, 'utf8').trim()) || undefined;
    } catch {
      return undefined;
    }
  };
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const pid = qemuPid();
      try {
        if (pid) process.kill(pid, 'SIGTERM');
        else child.kill('SIGTERM');
      } catch {
        /* already gone */
      }
      const t = setTimeout(() => {
        try {
          if (pid) process.kill(pid, 'SIGKILL');
          child.kill('SIGKILL');
        } catch {
          /* already gone */
        }
      }, 5000);
      await exited;
      clearTimeout(t);
    })());
  return {
    accelerator: accel,
    get pid() {
      return qemuPid() ?? child.pid ?? -1;
    },
    kernel,
    ready,
    result,
    exited,
    tail,
    stop,
  };
}

/** Rejects with a VmError saying what the console showed when `p` has not settled within `ms`. */
export function within<T>(p: Promise<T>, ms: number, what: string, vm: Vm): Promise<T> {
  return new Promise<T>((res, rej) => {
    const t = setTimeout(
      () =>
        rej(
          new VmError(
            `${what} did not happen within ${Math.round(ms / 1000)} s; the console's last lines:\n${vm.tail()}`,
          ),
        ),
      ms,
    );
    p.then(
      (v) => (clearTimeout(t), res(v)),
      (e: unknown) => (clearTimeout(t), rej(e as Error)),
    );
  });
}
