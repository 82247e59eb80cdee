// npm start: what is missing set up first (ensure.mjs, in this process), then the desktop app, or, where
// Electron cannot start (no binary, no display), the browser host in this same process (no second Node.js start).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensure } from './ensure.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function electronBinary() {
  try {
    const dir = dirname(require.resolve('electron/package.json'));
    const rel = readFileSync(join(dir, 'path.txt'), 'utf8').trim();
    const bin = join(dir, 'dist', rel);
    return existsSync(bin)
      ? { bin }
      : { why: 'its binary was not downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD, or no network at install)' };
  } catch {
    return { why: 'its binary was not downloaded (ELECTRON_SKIP_BINARY_DOWNLOAD, or no network at install)' };
  }
}

ensure('app');
const e = electronBinary();
const display = process.platform !== 'linux' || process.env.DISPLAY || process.env.WAYLAND_DISPLAY;
const why = e.why ?? (display ? undefined : 'there is no display (DISPLAY and WAYLAND_DISPLAY are unset)');
if (why) {
  console.log(`Electron cannot start here: ${why}. Starting the browser host instead.`);
  // the host reads its options from process.argv as `node out/src-main/web/main.js ARGS` would have them
  await import(pathToFileURL(join(root, 'out/src-main/web/main.js')).href);
} else {
  const child = spawn(e.bin, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
  // Ctrl-C and SIGTERM reach the app, which ends its world before it exits.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, sig) => process.exit(code ?? (sig ? 1 : 0)));
}
