// Builds world-init, the C init of a lab world (src-main/world/native). Needs a C compiler.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src-main/world/native/world-init.c');
const out = join(root, 'out/native/world-init');

const fresh = (() => {
  try { return statSync(out).mtimeMs >= statSync(src).mtimeMs; } catch { return false; }
})();
if (!fresh) {
  mkdirSync(dirname(out), { recursive: true });
  const cc = process.env.CC || 'cc';
  try {
    execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-o', out, src], { stdio: 'inherit' });
  } catch {
    console.error(`podnet: could not compile ${src} with "${cc}". Install a C compiler: sudo apt-get install build-essential`);
    process.exit(1);
  }
}
