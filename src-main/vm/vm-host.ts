// The hosts' VM mode (npm run web -- --vm, npm start -- --vm): boot the bundled VM, wait for its
// engine's ready line, and hand back the loopback URL (with the token) the page opens. The page is the
// guest engine's own public build, talking to it over the forwarded port: it never knows where the world runs.
import { MARK } from './guest-init.js';
import { bootVm, within, type Ready, type Vm } from './qemu.js';

/** Under TCG a cold boot to a listening engine takes minutes on a busy machine: the wait is generous. */
const READY_TIMEOUT_MS = 900_000;

export interface VmSession extends Ready {
  vm: Vm;
  kernel: string;
}

/**
 * Boots the VM in web mode and waits for its engine; `progress` hears each stage. `progressDir` is the host's
 * lab progress folder (the hosts pass the one the app uses without the VM: the progress is the learner's,
 * wherever the world runs); the guest's engine keeps progress there, and nowhere else on the host can it write.
 */
export async function startVmSession(progress: (s: string) => void, progressDir: string): Promise<VmSession> {
  const t0 = performance.now();
  const secs = () => ((performance.now() - t0) / 1000).toFixed(1);
  let progressSaid = 'not said by the guest';
  const vm = await bootVm({
    mode: 'web',
    progressDir,
    onConsole: (line) => {
      if (line.startsWith(MARK.progress)) progressSaid = line.slice(MARK.progress.length);
    },
  });
  try {
    progress(`booting the bundled VM (QEMU, ${vm.accelerator.toUpperCase()}) …`);
    const kernel = await within(vm.kernel, READY_TIMEOUT_MS, "the guest's kernel reaching its init", vm);
    progress(`guest kernel ${kernel} up after ${secs()} s; starting the engine in it …`);
    const ready = await within(vm.ready, READY_TIMEOUT_MS, "the guest's engine listening", vm);
    progress(`the engine is ready after ${secs()} s`);
    progress(`the learner's progress: ${progressSaid} (${progressDir})`);
    return { vm, kernel, ...ready };
  } catch (e) {
    await vm.stop();
    throw e;
  }
}

/**
 * The browser host in VM mode: prints the URL to open, and ends the VM on Ctrl-C, SIGTERM or SIGHUP
 * (if this process is killed outright, the VM's watchdog ends it). Never returns.
 */
export async function serveFromVm(print: (s: string) => void, progressDir: string): Promise<never> {
  let session: VmSession | undefined;
  const end = (code: number) => void (session?.vm.stop() ?? Promise.resolve()).then(() => process.exit(code));
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => end(0));
  try {
    session = await startVmSession((s) => print(`podnet web --vm: ${s}`), progressDir);
  } catch (e) {
    process.stderr.write(`podnet web --vm: ${(e as Error).message}\n`);
    process.exit(1);
  }
  print(`Podnet Lab is running in the bundled VM (guest kernel ${session.kernel}). Open ${session.url}`);
  void session.vm.exited.then((code) => {
    process.stderr.write(
      `podnet web --vm: the VM ended (QEMU exit ${code}); its console's last lines:\n${session.vm.tail()}\n`,
    );
    process.exit(1);
  });
  return new Promise<never>(() => {});
}
