// npm run web [-- --host ADDR] [--port N] [--vm]: the browser host. Prints the URL (with its token) to open.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createEngine } from '../engine/engine.js';
import { engineTerminals } from '../terminal/terminal-service.js';
import { startWebHost, type WebHost } from './server.js';

const { values } = parseArgs({
  options: { host: { type: 'string' }, port: { type: 'string' }, vm: { type: 'boolean' } },
});
if (values.vm) {
  // the engine runs in the bundled VM (docs/vm.md); this process boots it and prints the page's URL
  if (values.host || values.port) {
    process.stderr.write('podnet web: --vm serves on a free loopback port only: drop --host and --port\n');
    process.exit(2);
  }
  // the learner's progress stays in this host's progress folder, the one the app uses without the VM
  const { ProgressStore } = await import('../labs/progress.js');
  await (await import('../vm/vm-host.js')).serveFromVm((s) => process.stdout.write(s + '\n'), new ProgressStore().dir);
}
const port = values.port === undefined ? 0 : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`podnet web: --port must be a port number, not "${values.port}"\n`);
  process.exit(2);
}
const rendererDir = join(import.meta.dirname, '../../renderer');
if (!existsSync(join(rendererDir, 'index.html'))) {
  process.stderr.write('podnet web: the renderer is not built: run "npm run build"\n');
  process.exit(1);
}
const engine = createEngine(engineTerminals());
// Signals are handled before anything starts: a Ctrl-C at any moment ends what exists, cleanly.
// assigned once the host listens; a signal before that ends what exists (so not a const in TDZ)
// eslint-disable-next-line prefer-const
let host: WebHost | undefined;
/** The longest a signal waits for a clean end before the process exits anyway. */
const END_DEADLINE_MS = 4000;
let ending = false;
async function end(): Promise<void> {
  if (ending) return;
  ending = true;
  // within END_DEADLINE_MS in every state: the world's init ends its world when this process's lifeline goes
  setTimeout(() => process.exit(1), END_DEADLINE_MS).unref();
  // Terminals and the world end first (a start under way is cancelled); nothing of the app is left.
  await engine.dispose().catch(() => {});
  await host?.close().catch(() => {});
  process.exit(0);
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void end());

host = await startWebHost({
  api: engine.api,
  events: engine.events,
  rendererDir,
  ...(values.host ? { host: values.host } : {}),
  port,
});
if (process.env.PODNET_VM_READY) {
  // inside the bundled VM (src-main/vm/guest-init.ts): the host reads this line on the serial console
  process.stdout.write(`podnet-vm: ready port=${host.port} token=${host.token}\n`);
} else if (values.host && values.host !== '127.0.0.1') {
  process.stdout.write(
    `Podnet Lab is exposed on ${values.host}. Share this URL with your room; anyone who has it can use this lab:\n${host.url}\n`,
  );
} else {
  process.stdout.write(`Podnet Lab is running. Open ${host.url}\n`);
}
