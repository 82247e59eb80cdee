// Builds the lab world's native helpers (src-main/world/native): world-init, the world's C init (it
// builds the world's root and holds it), and pause, each pod sandbox's pause process. Needs a C compiler.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cc = process.env.CC || 'cc';

for (const name of ['world-init', 'pause']) {
  const src = join(root, `src-main/world/native/${name}.c`);
  const out = join(root, `out/native/${name}`);
  const fresh = (() => {
    try {
      return statSync(out).mtimeMs >= statSync(src).mtimeMs;
    } catch {
      return false;
    }
  })();
  if (fresh) continue;
  mkdirSync(dirname(out), { recursive: true });
  try {
    execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', '-o', out, src], { stdio: 'inherit' });
  } catch {
    console.error(
      `podnet: could not compile ${src} with "${cc}". Install a C compiler: sudo apt-get install build-essential`,
    );
    process.exit(1);
  }
}
