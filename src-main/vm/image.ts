// podnet vm build: the bundled VM's image from Debian packages only (unpacked, never installed on the
// host, so an arm64 image needs no arm64 code to run) plus the app's built engine: Debian's kernel, and
// the whole root as one compressed initramfs (a throwaway root: nothing of it outlives the VM).
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { appRoot, pinnedDir } from '../world/paths.js';
import { GUEST_APP_DIR, initScript } from './guest-init.js';
import {
  ARCHES,
  BOOT_MODULES,
  DROPPED_PATHS,
  GUEST_PACKAGES,
  MODULE_TREES,
  PINNED_BUNDLES,
  RENDERER_ONLY,
  type Arch,
} from './guest-spec.js';

export class VmBuildError extends Error {
  override name = 'VmBuildError';
}

/** Where builds and their cache go (out/ is ignored by git). */
export const vmOutDir = (): string => join(appRoot(), 'out', 'vm');
export const imageDir = (arch: Arch, out = vmOutDir()): string => join(out, arch);
export const IMAGE_FILES = { kernel: 'vmlinuz', initrd: 'initrd.zst', manifest: 'image.json' } as const;

export interface ImageManifest {
  arch: Arch;
  kernelVersion: string;
  nodeVersion: string;
  builtAt: string;
  /** bytes: the kernel, the compressed initramfs, and the root it unpacks to */
  sizes: { kernel: number; initrd: number; root: number };
  packages: string[];
}

export interface BuildOptions {
  arch: Arch;
  out?: string;
  /** zstd's level: 12 packs in a fraction of 19's time for a few percent more to download */
  level?: number;
  log?: (s: string) => void;
}

function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) throw new VmBuildError(`${cmd} could not start (${r.error.message}): ${installHint(cmd)}`);
  if (r.status !== 0) {
    const tail = String(r.stderr || r.stdout || '')
      .trim()
      .split('\n')
      .slice(-4)
      .join(' | ');
    throw new VmBuildError(`${cmd} ${args.slice(0, 3).join(' ')} … failed (status ${r.status}): ${tail}`);
  }
  return String(r.stdout ?? '');
}

function installHint(cmd: string): string {
  const pkg: Record<string, string> = {
    'apt-get': 'apt',
    'dpkg-deb': 'dpkg',
    cpio: 'cpio',
    zstd: 'zstd',
    depmod: 'kmod',
    fakeroot: 'fakeroot',
  };
  return `install it: sudo apt-get install ${pkg[cmd] ?? cmd} (the image is built on a Debian or Ubuntu host)`;
}

/** Debian's archive, as this system reaches it: the newest suite's sources, derived from the system's. */
async function newestSources(): Promise<string> {
  const mod = (await import(pathToFileURL(join(appRoot(), 'scripts', 'pinned.mjs')).href)) as {
    newestSuiteSources: () => string;
  };
  const s = mod.newestSuiteSources();
  if (!s) throw new VmBuildError('no Debian archive entry in /etc/apt/sources.list(.d): cannot fetch the packages');
  return s;
}

/** A private APT (its own lists, cache and empty status) for one architecture: nothing on the host changes. */
class GuestApt {
  readonly dir: string;
  constructor(
    cache: string,
    readonly arch: Arch,
  ) {
    this.dir = join(cache, `apt-${ARCHES[arch].debian}`);
  }
  options(): string[] {
    const d = this.dir;
    const deb = ARCHES[this.arch].debian;
    return [
      ...['-o', `Dir::Etc::SourceList=${join(d, 'guest.sources')}`, '-o', 'Dir::Etc::SourceParts=/dev/null'],
      ...['-o', `Dir::State::Lists=${join(d, 'lists')}`, '-o', `Dir::Cache=${join(d, 'cache')}`],
      ...['-o', `Dir::State::Status=${join(d, 'status')}`, '-o', 'Debug::NoLocking=1'],
      ...['-o', `APT::Architecture=${deb}`, '-o', `APT::Architectures=${deb}`, '-o', 'APT::Install-Recommends=0'],
      ...['-o', 'APT::Sandbox::User=' + (process.getuid?.() === 0 ? 'root' : process.env.USER || 'nobody'), '-q'],
    ];
  }
  async update(log: (s: string) => void): Promise<void> {
    for (const d of ['lists/partial', 'cache/archives/partial', 'debs'])
      mkdirSync(join(this.dir, d), { recursive: true });
    writeFileSync(join(this.dir, 'guest.sources'), await newestSources());
    writeFileSync(join(this.dir, 'status'), '');
    const stamp = join(this.dir, 'lists', '.updated');
    // the index is read at most once a day: a rebuild of the app alone costs no download
    if (existsSync(stamp) && Date.now() - statSync(stamp).mtimeMs < 86_400_000) return;
    log(
      `reading the package index of Debian's newest suite for ${ARCHES[this.arch].debian} (through this system's mirror)`,
    );
    run('apt-get', [...this.options(), 'update']);
    writeFileSync(stamp, '');
  }
  /** Downloads the packages and everything they depend on; the .deb files' paths. */
  closure(packages: string[]): string[] {
    run('apt-get', [...this.options(), 'install', '--download-only', '-y', ...packages], {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    const archives = join(this.dir, 'cache', 'archives');
    return readdirSync(archives)
      .filter((f) => f.endsWith('.deb'))
      .map((f) => join(archives, f));
  }
  /** The concrete kernel's packages (image, binary, modules), downloaded alone: no initramfs tools come along. */
  kernel(): string[] {
    const meta = ARCHES[this.arch].kernelPackage;
    const depends = (pkg: string) => run('apt-cache', [...this.options(), 'depends', pkg]);
    const image = /Depends: (linux-image-[0-9]\S*)/.exec(depends(meta))?.[1];
    if (!image) throw new VmBuildError(`${meta} names no kernel package in Debian's index`);
    const abi = image.slice('linux-image-'.length);
    // Debian splits a kernel into linux-image-ABI (the hooks) and linux-{binary,modules,…}-ABI
    const parts = [
      image,
      ...[...depends(image).matchAll(/Depends: (linux-[a-z-]+-)(\S+)/g)]
        .filter((m) => m[2] === abi)
        .map((m) => m[1]! + abi),
    ];
    const debs = join(this.dir, 'debs');
    return [...new Set(parts)].map((name) => {
      const find = () => readdirSync(debs).find((f) => f.startsWith(`${name}_`) && f.endsWith('.deb'));
      if (!find()) run('apt-get', [...this.options(), 'download', name], { cwd: debs });
      const got = find();
      if (!got) throw new VmBuildError(`apt-get download ${name} left no .deb in ${debs}`);
      return join(debs, got);
    });
  }
}

/** Packages the closure took, as "name version" (from the .deb file names). */
export const debName = (f: string) => {
  const [name, version] = f.split('/').pop()!.split('_');
  return `${name} ${decodeURIComponent(version ?? '')}`;
};

/** Moves what a package put in /bin, /sbin or /lib into /usr (Debian's merged /usr), leaving the links. */
function mergeUsr(root: string): void {
  for (const [top, under] of [
    ['bin', 'usr/bin'],
    ['sbin', 'usr/sbin'],
    ['lib', 'usr/lib'],
    ['lib64', 'usr/lib64'],
  ] as const) {
    const p = join(root, top);
    mkdirSync(join(root, under), { recursive: true });
    if (existsSync(p) && !lstatSync(p).isSymbolicLink()) {
      cpSync(p, join(root, under), { recursive: true, force: true, verbatimSymlinks: true });
      rmSync(p, { recursive: true, force: true });
    }
    if (!existsSync(p)) symlinkSync(under, p);
  }
}

/** Busybox's applets as links in /usr/bin, for each command no package provides (never shadowing one). */
function busyboxLinks(root: string): void {
  const bb = join(root, 'usr/bin/busybox');
  if (!existsSync(bb)) throw new VmBuildError('busybox-static did not provide /usr/bin/busybox');
  // the list is read from the package's own data: running it would need the guest's architecture
  // (one-letter names count: `w` sits between vmstat and wc, and a run cut there lost wc … zcat)
  const applets = readFileSync(bb, 'latin1').match(/\0(?:[a-z][a-z0-9_.-]{0,30}\0){200,}/)?.[0] ?? '';
  for (const a of applets.split('\0').filter(Boolean)) {
    if (['busybox', 'init', 'linuxrc'].includes(a)) continue;
    const has = ['usr/bin', 'usr/sbin'].some((d) => existsSync(join(root, d, a)));
    if (!has) symlinkSync('busybox', join(root, 'usr/bin', a));
  }
  // /bin/sh is dash, as on Debian: busybox's sh would run its applets (its ip, its modprobe) before PATH's
  rmSync(join(root, 'usr/bin/sh'), { force: true });
  symlinkSync('dash', join(root, 'usr/bin/sh'));
}

/** Files of /etc the guest needs and no unpacked package writes (their maintainer scripts never run). */
function etcFiles(root: string): void {
  const etc = join(root, 'etc');
  mkdirSync(etc, { recursive: true });
  writeFileSync(
    join(etc, 'passwd'),
    'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
  );
  writeFileSync(join(etc, 'group'), 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n');
  writeFileSync(join(etc, 'hosts'), '127.0.0.1 localhost podnet-vm\n::1 localhost\n');
  writeFileSync(join(etc, 'hostname'), 'podnet-vm\n');
  writeFileSync(join(etc, 'nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n');
  writeFileSync(join(etc, 'resolv.conf'), '');
  for (const d of ['root', 'proc', 'sys', 'dev', 'run', 'tmp', 'var/tmp', 'var/lib', 'mnt', 'opt'])
    mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, 'tmp'), 0o1777);
  chmodSync(join(root, 'var/tmp'), 0o1777);
}

/** modules.dep's closure of `wanted` (names without .ko*), plus whole MODULE_TREES. */
function moduleSelection(modDir: string, wanted: string[]): Set<string> {
  const dep = new Map<string, string[]>();
  for (const line of readFileSync(join(modDir, 'modules.dep'), 'utf8').split('\n')) {
    const [m, rest] = line.split(':');
    if (m) dep.set(m, (rest ?? '').trim().split(/\s+/).filter(Boolean));
  }
  const byName = new Map<string, string>();
  for (const m of dep.keys())
    byName.set(
      m
        .split('/')
        .pop()!
        .replace(/\.ko(\..*)?$/, '')
        .replace(/-/g, '_'),
      m,
    );
  const picked = new Set<string>();
  const add = (m: string) => {
    if (picked.has(m)) return;
    picked.add(m);
    for (const d of dep.get(m) ?? []) add(d);
  };
  for (const w of wanted) {
    const m = byName.get(w.replace(/-/g, '_'));
    if (m) add(m); // absent: built into this kernel
  }
  for (const m of dep.keys()) if (MODULE_TREES.some((t) => m.startsWith(`kernel/${t}/`))) add(m);
  return picked;
}

function kernelParts(kernelDebs: string[], root: string, work: string, log: (s: string) => void): string {
  const k = join(work, 'kernel');
  rmSync(k, { recursive: true, force: true });
  for (const d of kernelDebs) run('dpkg-deb', ['-x', d, k]);
  const modBase = existsSync(join(k, 'usr/lib/modules')) ? join(k, 'usr/lib/modules') : join(k, 'lib/modules');
  const version = existsSync(modBase) ? readdirSync(modBase)[0] : undefined;
  if (!version) throw new VmBuildError(`${kernelDebs.join(', ')}: no lib/modules/VERSION`);
  // the index of the whole tree (depmod reads files only: no guest code runs), to take closures from
  run('depmod', ['-b', dirname(dirname(modBase)), version]);
  const picked = moduleSelection(join(modBase, version), BOOT_MODULES);
  const dest = join(root, 'usr/lib/modules', version);
  for (const m of picked) {
    mkdirSync(dirname(join(dest, m)), { recursive: true });
    renameSync(join(modBase, version, m), join(dest, m));
  }
  for (const f of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo'])
    if (existsSync(join(modBase, version, f))) renameSync(join(modBase, version, f), join(dest, f));
  run('depmod', ['-b', root, version]);
  // the kernel image: /boot/vmlinuz-ABI, or beside its modules in newer packaging
  const boot = [join(modBase, version, 'vmlinuz'), join(k, 'boot', `vmlinuz-${version}`)].find((f) => existsSync(f));
  if (!boot) throw new VmBuildError(`${kernelDebs.join(', ')}: no vmlinuz`);
  renameSync(boot, join(work, IMAGE_FILES.kernel));
  log(`kernel ${version}: ${picked.size} modules kept`);
  rmSync(k, { recursive: true, force: true });
  return version;
}

/** The engine's production dependencies (package.json's, and theirs), less what only the renderer's bundle uses. */
function engineModules(app: string): string[] {
  const pkg = (dir: string) =>
    JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
  const top = Object.keys(pkg(app).dependencies ?? {}).filter(
    (d) => !RENDERER_ONLY.some((r) => d === r || (r.endsWith('/') && d.startsWith(r))),
  );
  const picked = new Set<string>();
  const visit = (name: string, from: string) => {
    // node's own lookup, two levels: the dependent package's own node_modules, else the top level
    const nested = join(from, 'node_modules', name);
    const dir = existsSync(join(nested, 'package.json')) ? nested : join(app, 'node_modules', name);
    if (!existsSync(join(dir, 'package.json'))) return; // an optional dependency for another platform
    const rel = relative(join(app, 'node_modules'), dir);
    if (picked.has(rel)) return;
    picked.add(rel);
    const p = pkg(dir);
    for (const d of Object.keys({ ...p.dependencies, ...p.optionalDependencies })) visit(d, dir);
  };
  for (const d of top) visit(d, app);
  // a nested package is copied with its parent
  return [...picked].filter((p) => !p.includes('/node_modules/'));
}

/** The app as the guest runs it: GUEST_APP_DIR with the same layout as a checkout (appRoot() finds it). */
export function appParts(root: string, arch: Arch, log: (s: string) => void): void {
  const app = appRoot();
  const dest = join(root, GUEST_APP_DIR.slice(1));
  for (const need of ['out/src-main/web/main.js', 'out/native/world-init', 'out/renderer/index.html'])
    if (!existsSync(join(app, need))) throw new VmBuildError(`${need} is missing: run "npm run build" first`);
  // another architecture's native parts: cross-compiled by Debian's gcc for it (no code of it runs here)
  const cross = arch === ARCHES_HOST() ? undefined : crossNative(arch, join(dirname(root), 'native'), log);
  const copy = (rel: string, filter?: (src: string) => boolean) =>
    cpSync(join(app, rel), join(dest, rel), { recursive: true, dereference: true, ...(filter ? { filter } : {}) });
  copy('package.json');
  copy('bin');
  copy('resources');
  copy('labs');
  copy('out/src-main', (s) => !s.endsWith('.map') && !s.endsWith('.d.ts'));
  if (cross) cpSync(cross.dir, join(dest, 'out/native'), { recursive: true });
  else copy('out/native');
  copy('out/renderer');
  for (const m of engineModules(app)) {
    if (m === 'node-pty') {
      // its JavaScript and this architecture's addon: no sources, no other platforms' prebuilds
      copy('node_modules/node-pty/package.json');
      copy('node_modules/node-pty/lib', (s) => !s.endsWith('.test.js') && !s.endsWith('.map'));
      if (cross) {
        mkdirSync(join(dest, 'node_modules/node-pty/build/Release'), { recursive: true });
        cpSync(cross.pty, join(dest, 'node_modules/node-pty/build/Release/pty.node'));
      } else copy('node_modules/node-pty/build/Release/pty.node');
      continue;
    }
    copy(`node_modules/${m}`);
  }
  const pinned = pinnedDir();
  for (const b of PINNED_BUNDLES) {
    if (!existsSync(join(pinned, b))) {
      log(`pinned/${b} is missing: the guest goes without it (run "npm start" once to fetch it)`);
      continue;
    }
    cpSync(join(pinned, b), join(dest, 'pinned', b), { recursive: true, dereference: true });
  }
}

/** The helpers scripts/build-native.mjs builds, as [source, output, static?]. */
const NATIVE_HELPERS: [string, string, boolean][] = [
  ['src-main/world/native/world-init.c', 'world-init', false],
  ['src-main/world/native/pause.c', 'pause', false],
  ['src-main/terminal/native/pty-exec.c', 'pty-exec', false],
  ['src-main/world/native/pause.c', 'pause-static', true],
  ['src-main/world/native/node-holder.c', 'node-holder', true],
];

/** The native helpers and node-pty's addon for `arch`, cross-compiled with gcc-TRIPLET and g++-TRIPLET. */
function crossNative(arch: Arch, dir: string, log: (s: string) => void): { dir: string; pty: string } {
  const gnu = ARCHES[arch].gnu;
  const app = appRoot();
  const tool = (t: string) => {
    const bin = `${gnu}-${t}`;
    if (spawnSync(bin, ['--version']).status !== 0)
      throw new VmBuildError(
        `${bin} is not installed: an ${arch} image needs the app's native parts cross-compiled: sudo apt-get install gcc-${gnu} g++-${gnu}`,
      );
    return bin;
  };
  const cc = tool('gcc');
  const cxx = tool('g++');
  mkdirSync(dir, { recursive: true });
  log(`cross-compiling the native helpers and node-pty's addon for ${arch} (${cc})`);
  for (const [src, out, isStatic] of NATIVE_HELPERS)
    run(cc, [
      '-O2',
      '-Wall',
      '-Wextra',
      '-Werror',
      ...(isStatic ? ['-static'] : []),
      '-o',
      join(dir, out),
      join(app, src),
    ]);
  // node-pty's binding.gyp for Linux, by hand: N-API with C++ exceptions, linked with libutil
  const headers = ['/usr/include/node', join(process.execPath, '../../include/node')].find((d) =>
    existsSync(join(d, 'node_api.h')),
  );
  if (!headers)
    throw new VmBuildError("Node.js's headers (node_api.h) are missing: install Node.js with its include/ folder");
  const pty = join(dirname(dir), 'pty.node');
  run(cxx, [
    ...['-shared', '-fPIC', '-O2', '-std=c++17', '-fexceptions', '-D_FORTIFY_SOURCE=2'],
    ...['-DNAPI_CPP_EXCEPTIONS', '-DBUILDING_NODE_EXTENSION', '-DNODE_GYP_MODULE_NAME=pty'],
    ...['-I', headers, '-I', join(app, 'node_modules/node-addon-api')],
    ...['-o', pty, join(app, 'node_modules/node-pty/src/unix/pty.cc'), '-lutil'],
  ]);
  return { dir, pty };
}

const ARCHES_HOST = (): Arch => (process.arch === 'arm64' ? 'arm64' : 'x86_64');

function duBytes(dir: string): number {
  return Number(run('du', ['-sb', dir]).split('\t')[0]);
}

/**
 * A root of Debian's packages for `arch` in `root`: `packages` and what they depend on, unpacked (never
 * installed) into a merged /usr, busybox's applets for what they lack, and the few /etc files no package
 * writes. The VM's image and the workshop's container image (src-main/workshop/container-image.ts) both start from it.
 */
export async function debianRoot(
  root: string,
  arch: Arch,
  packages: readonly string[],
  log: (s: string) => void,
  /** the package cache: a closure is every .deb in it, so a different package list needs its own */
  cache = join(vmOutDir(), 'cache'),
): Promise<{ apt: GuestApt; debs: string[] }> {
  const apt = new GuestApt(cache, arch);
  await apt.update(log);
  log(`downloading ${packages.join(', ')} and what they depend on (cached in ${relative(appRoot(), cache)})`);
  const debs = apt.closure([...packages]);
  log(`unpacking ${debs.length} packages`);
  for (const d of debs) run('dpkg-deb', ['-x', d, root]);
  mergeUsr(root);
  for (const p of DROPPED_PATHS)
    rmSync(join(root, p.replace('GNU', ARCHES[arch].gnu)), { recursive: true, force: true });
  busyboxLinks(root);
  etcFiles(root);
  return { apt, debs };
}

/** Builds the image for `arch` into OUT/ARCH/ (vmlinuz, initrd.zst, image.json); returns its manifest. */
export async function buildImage(opts: BuildOptions): Promise<ImageManifest> {
  const log = opts.log ?? (() => {});
  const outDir = imageDir(opts.arch, opts.out);
  const work = join(outDir, '.work');
  const root = join(work, 'root');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  try {
    const { apt, debs } = await debianRoot(root, opts.arch, GUEST_PACKAGES, log);
    const kernelDebs = apt.kernel();
    const kernelVersion = kernelParts(kernelDebs, root, work, log);
    appParts(root, opts.arch, log);
    writeFileSync(join(root, 'init'), initScript(), { mode: 0o755 });
    const nodeVersion = /^nodejs (\S+)/m.exec(debs.map(debName).join('\n'))?.[1] ?? '?';
    const rootBytes = duBytes(root);
    log(`packing the root (${(rootBytes / 2 ** 20).toFixed(0)} MB) into a zstd-compressed initramfs`);
    // fakeroot: every file root-owned and /dev/console a device, without root on the host
    const initrd = join(work, IMAGE_FILES.initrd);
    run(
      'fakeroot',
      [
        'sh',
        '-c',
        'mknod -m 600 dev/console c 5 1 && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | zstd -q --ultra -$2 -T2 -o "$1"',
        'sh',
        initrd,
        String(opts.level ?? 12),
      ],
      { cwd: root },
    );
    mkdirSync(outDir, { recursive: true });
    renameSync(initrd, join(outDir, IMAGE_FILES.initrd));
    renameSync(join(work, IMAGE_FILES.kernel), join(outDir, IMAGE_FILES.kernel));
    const manifest: ImageManifest = {
      arch: opts.arch,
      kernelVersion,
      nodeVersion,
      builtAt: new Date().toISOString(),
      sizes: {
        kernel: statSync(join(outDir, IMAGE_FILES.kernel)).size,
        initrd: statSync(join(outDir, IMAGE_FILES.initrd)).size,
        root: rootBytes,
      },
      packages: [...debs, ...kernelDebs].map(debName).sort(),
    };
    writeFileSync(join(outDir, IMAGE_FILES.manifest), JSON.stringify(manifest, null, 2) + '\n');
    return manifest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The built image's manifest, or undefined when there is none for `arch`. */
export function readManifest(arch: Arch, out?: string): ImageManifest | undefined {
  try {
    return JSON.parse(readFileSync(join(imageDir(arch, out), IMAGE_FILES.manifest), 'utf8')) as ImageManifest;
  } catch {
    return undefined;
  }
}

export const mb = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MB`;

/** Why the image for `arch` must be built (none yet, or the app's build is newer), or undefined when it is current. */
export function imageStale(arch: Arch, out?: string): string | undefined {
  const m = readManifest(arch, out);
  if (!m) return `no ${arch} image yet: building it`;
  const built = Date.parse(m.builtAt);
  const app = appRoot();
  // what goes into the guest from this checkout: the build's output, the labs, the pinned binaries' stamps
  const newest = (dir: string): number => {
    let t = 0;
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) t = Math.max(t, statSync(p).mtimeMs);
      }
    };
    if (existsSync(dir)) walk(dir);
    return t;
  };
  for (const d of ['out/src-main', 'out/native', 'out/renderer', 'labs'])
    if (newest(join(app, d)) > built) return `${d} changed since the image was built: building it again`;
  return undefined;
}
