// podnet vm build [--arch x86_64|arm64] [--out DIR]: the bundled VM's image (src-main/vm/).
import { parseArgs } from 'node:util';
import { UsageError } from './usage-error.js';
import { ARCHES, hostArch, type Arch } from '../vm/guest-spec.js';
import { buildImage, imageDir, imageStale, mb } from '../vm/image.js';
import { VmError } from '../vm/qemu.js';

export function parseArch(v: string | undefined): Arch {
  const arch = v ?? hostArch();
  if (!(arch in ARCHES)) throw new UsageError(`--arch must be ${Object.keys(ARCHES).join(' or ')}, not "${arch}"`);
  return arch as Arch;
}

export async function vmCommand(args: string[], out: (s: string) => void): Promise<number> {
  const [verb, ...rest] = args;
  if (verb !== 'build')
    throw new UsageError(
      'usage: podnet vm build [--arch x86_64|arm64] [--out DIR] [--level N] [--if-stale]  (see podnet help)',
    );
  const { values } = parseArgs({
    args: rest,
    options: {
      arch: { type: 'string' },
      out: { type: 'string' },
      level: { type: 'string' },
      'if-stale': { type: 'boolean' },
    },
  });
  const arch = parseArch(values.arch);
  const level = values.level === undefined ? undefined : Number(values.level);
  if (level !== undefined && !(Number.isInteger(level) && level >= 1 && level <= 22))
    throw new UsageError(`--level must be zstd's level, 1 to 22, not "${values.level}"`);
  if (values['if-stale']) {
    const stale = imageStale(arch, values.out);
    if (!stale) {
      out(`podnet vm build: the ${arch} image in ${imageDir(arch, values.out)} is newer than the app's build: kept`);
      return 0;
    }
    out(`podnet vm build: ${stale}`);
  }
  const t0 = performance.now();
  const m = await buildImage({
    arch,
    ...(values.out ? { out: values.out } : {}),
    ...(level ? { level } : {}),
    log: (s) => out(`podnet vm build: ${s}`),
  });
  const s = ((performance.now() - t0) / 1000).toFixed(0);
  out(
    `podnet vm build: ${arch} image in ${imageDir(arch, values.out)} (${s} s): kernel ${m.kernelVersion}, Node.js ${m.nodeVersion}\n` +
      `  vmlinuz ${mb(m.sizes.kernel)} + initrd.zst ${mb(m.sizes.initrd)} = ${mb(m.sizes.kernel + m.sizes.initrd)} to download; the root unpacks to ${mb(m.sizes.root)}`,
  );
  return 0;
}

/**
 * podnet trace --vm: boots the VM, runs `podnet trace ARGS` inside (the guest's engine, the guest's kernel),
 * prints its trace with the guest's kernel version, and ends the VM. True when the trace passed.
 */
export async function traceInVm(
  traceArgs: string[],
  json: boolean,
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<boolean> {
  const { bootVm, within } = await import('../vm/qemu.js');
  const t0 = performance.now();
  const vm = await bootVm({ mode: 'run', run: ['trace', ...traceArgs] });
  const secs = () => ((performance.now() - t0) / 1000).toFixed(1);
  // SIGINT/SIGTERM end the VM first: nothing of it is left on the host
  const end = () => void vm.stop().then(() => process.exit(130));
  process.once('SIGINT', end).once('SIGTERM', end);
  try {
    if (!json) err(`podnet trace --vm: booting the bundled VM (QEMU, ${vm.accelerator.toUpperCase()}) …`);
    const kernel = await within(vm.kernel, 600_000, "the guest's kernel reaching its init", vm);
    if (!json) err(`podnet trace --vm: guest kernel ${kernel} up after ${secs()} s; running the walkthrough in it`);
    const { lines, status } = await within(vm.result, 900_000, 'the trace in the VM', vm);
    const vmInfo = { kernel, accelerator: vm.accelerator, arch: process.arch === 'arm64' ? 'arm64' : 'x86_64' };
    if (json) {
      let report: Record<string, unknown>;
      try {
        report = JSON.parse(lines.join('\n')) as Record<string, unknown>;
      } catch {
        throw new VmError(`the trace in the VM printed no JSON (exit ${status}):\n${lines.slice(-20).join('\n')}`);
      }
      out(JSON.stringify({ vm: vmInfo, ...report }, null, 2));
    } else {
      out(
        `podnet trace --vm: in the bundled VM — guest kernel ${kernel} (${vmInfo.arch}, QEMU ${vm.accelerator.toUpperCase()})`,
      );
      out(lines.join('\n'));
    }
    await within(vm.exited, 60_000, 'the VM powering off', vm).catch(() => vm.stop());
    if (!json) err(`podnet trace --vm: the VM powered off after ${secs()} s`);
    return status === 0;
  } finally {
    await vm.stop();
    process.off('SIGINT', end).off('SIGTERM', end);
  }
}
