// Builds the native helpers: the lab world's (src-main/world/native): world-init, the world's C init (it
// builds the world's root and holds it), node-holder, each node's mounts and holder, pause, each pod sandbox's pause process, and container-init, each container's start; and the terminals'
// pty-exec (src-main/terminal/native), which starts each shell with no inherited descriptor. Needs a C compiler.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cc = process.env.CC || 'cc';

const helpers = [
  ...['world-init', 'pause', 'container-init'].map((name) => ({ name, dir: 'src-main/world/native' })),
  { name: 'pty-exec', dir: 'src-main/terminal/native' },
  // the real containerd's sandbox image holds it: nothing else is in that image, so it links statically
  { name: 'pause', dir: 'src-main/world/native', out: 'pause-static', flags: ['-static'] },
  // each node's holder (its mounts, then it holds the node): static, so its one exec loads nothing more
  { name: 'node-holder', dir: 'src-main/world/native', flags: ['-static'] },
];
for (const { name, dir, out: outName = name, flags = [] } of helpers) {
  const src = join(root, `${dir}/${name}.c`);
  const out = join(root, `out/native/${outName}`);
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
    execFileSync(cc, ['-O2', '-Wall', '-Wextra', '-Werror', ...flags, '-o', out, src], { stdio: 'inherit' });
  } catch {
    console.error(
      `podnet: could not compile ${src} with "${cc}". Install a C compiler: sudo apt-get install build-essential`,
    );
    process.exit(1);
  }
}
