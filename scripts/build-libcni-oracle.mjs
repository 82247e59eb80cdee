// Builds test/libcni-oracle (the real libcni 1.3 and go-cni 1.1.13, a test instrument) with the pinned
// Go, offline, in GOPATH mode, into pinned/libcni-oracle/libcni-oracle. Skips when the source is unchanged.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pinned = process.env.PODNET_PINNED_DIR || join(root, 'pinned');
const goroot = join(pinned, 'go-toolchain/usr/lib/go-1.27');
const gopath = join(pinned, 'go-sources/usr/share/gocode');
const src = join(root, 'test/libcni-oracle/main.go');
const outDir = join(pinned, 'libcni-oracle');
const out = join(outDir, 'libcni-oracle');
const stampFile = join(outDir, 'stamp');

const missing = [
  [join(goroot, 'bin/go'), 'pinned/go-toolchain (Debian Go 1.27)'],
  [join(gopath, 'src/github.com/containernetworking/cni/libcni'), 'pinned/go-sources (libcni 1.3.0)'],
  [join(gopath, 'src/github.com/containerd/go-cni'), 'pinned/go-sources (go-cni 1.1.13)'],
].filter(([p]) => !existsSync(p));
if (missing.length) {
  console.error(
    `build-libcni-oracle: missing ${missing.map(([, what]) => what).join(', ')}: run the set-up (scripts/setup.sh, or: node scripts/pinned.mjs --tests), which puts them in pinned/`,
  );
  process.exit(1);
}

const stamp = createHash('sha256').update(readFileSync(src)).update(goroot).digest('hex');
if (existsSync(out) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) process.exit(0);

console.log('build-libcni-oracle: building the libcni 1.3 / go-cni 1.1.13 oracle with the pinned Go (offline)…');
mkdirSync(outDir, { recursive: true });
execFileSync(join(goroot, 'bin/go'), ['build', '-o', out, src], {
  cwd: outDir,
  stdio: ['ignore', 'inherit', 'inherit'],
  env: {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: outDir,
    GOROOT: goroot,
    GOPATH: gopath,
    GOCACHE: join(outDir, 'gocache'),
    GO111MODULE: 'off',
    GOTOOLCHAIN: 'local',
    GOPROXY: 'off',
    GOFLAGS: '',
    CGO_ENABLED: '0',
    GOTELEMETRY: 'off',
  },
});
writeFileSync(stampFile, stamp);
