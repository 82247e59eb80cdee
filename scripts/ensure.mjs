// What `npm start` and `npm test` run first: check what this machine and this tree lack, and do only
// that — Debian packages, node_modules, the pinned binaries, the build (only when its sources changed),
// and for the tests the libcni oracle. A line per step; when nothing is missing it costs well under a second.
// Usage: node scripts/ensure.mjs app|test, or ensure('app', { quiet }) from a script that then runs the app
// in the same process (scripts/start.mjs, scripts/podnet.mjs: one Node.js start less before the app).
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fetchBundles, missingBundles, PINNED } from './pinned.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Debian packages a lab world needs (and, for the tests, the browser the UI tests drive). */
const PACKAGES = {
  // iproute2, nftables, iptables: the lab world's networking; busybox-static: pause, containers, httpd
  // util-linux: unshare/nsenter; build-essential: the native helpers; tcpdump, fakeroot: lab 10's capture
  // dnsmasq-base: lab 13's cluster DNS; containernetworking-plugins: the fallback plugin set
  app: [
    'iproute2',
    'containernetworking-plugins',
    'busybox-static',
    'nftables',
    'iptables',
    'util-linux',
    'build-essential',
    'tcpdump',
    'fakeroot',
    'dnsmasq-base',
  ],
  // chromium: the end-to-end tests drive the UI in it (playwright-core downloads no browser)
  test: ['chromium'],
};

/** Rough space each install needs, so a full disk is said up front rather than halfway. */
const NEED_MB = {
  packages: 400,
  node_modules: 600,
  pinned: { 'cni-plugins': 120, 'go-toolchain': 450, 'go-sources': 10 },
};

let mode = 'app';
let quiet = false;
const step = (what, detail) => quiet || console.log(`podnet ${mode === 'test' ? 'test' : 'start'}: ${what}: ${detail}`);
function fail(message) {
  console.error(`podnet: ${message}`);
  process.exit(1);
}
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  return r.status === 0;
}
function freeMb() {
  try {
    const s = statfsSync(root);
    return Math.floor((s.bavail * s.bsize) / 2 ** 20);
  } catch {
    return Infinity;
  }
}
function needSpace(mb, what) {
  const free = freeMb();
  if (free < mb) fail(`not enough disk for ${what}: it needs about ${mb} MB, ${free} MB are free on ${root}'s disk`);
}

/** Sets up what is missing for `mode` ('app' or 'test'); exits the process with a message when it cannot. */
export function ensure(forMode = 'app', opts = {}) {
  mode = forMode === 'test' ? 'test' : 'app';
  quiet = opts.quiet === true;
  const started = Date.now();
  // 1. Node.js itself (the one thing a machine must have first)
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20)
    fail(`Node.js ${process.versions.node} is too old: install Node.js 20 or newer (README: "What it needs")`);

  // 2. Debian packages
  function missingPackages() {
    const wanted = mode === 'test' ? [...PACKAGES.app, ...PACKAGES.test] : PACKAGES.app;
    const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${Status}\n', ...wanted], { encoding: 'utf8' });
    if (r.error) return undefined; // not a Debian-like system
    const ok = new Set(
      r.stdout
        .split('\n')
        .filter((l) => l.endsWith(' install ok installed'))
        .map((l) => l.split(' ')[0]),
    );
    return wanted.filter((p) => !ok.has(p));
  }
  const missing = missingPackages();
  if (missing === undefined) {
    step('packages', 'not a Debian or Ubuntu system: "podnet doctor" says what the lab world lacks');
  } else if (missing.length === 0) {
    step('packages', 'all present');
  } else if (process.getuid?.() !== 0) {
    fail(
      `these Debian packages are missing: ${missing.join(' ')}\n` +
        `  install them, then run this again:\n  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`,
    );
  } else {
    needSpace(NEED_MB.packages, `the packages ${missing.join(', ')}`);
    step('packages', `installing ${missing.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (
      !run('apt-get', ['update', '-qq'], { env }) ||
      !run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env })
    )
      fail(
        `apt-get could not install ${missing.join(' ')}: is Debian's archive reachable (apt-get update)? These are missing: ${missing.join(' ')}`,
      );
  }

  // 3. node_modules, as package-lock.json says (npm ci), only when the lock changed since the last install
  const lockHash = createHash('sha256')
    .update(readFileSync(join(root, 'package-lock.json')))
    .digest('hex');
  const modulesStamp = join(root, 'node_modules', '.podnet-lock');
  const stamped = (() => {
    try {
      return readFileSync(modulesStamp, 'utf8') === lockHash;
    } catch {
      return false;
    }
  })();
  // without our stamp: installed by hand (npm ci/npm install) after the lock last changed, taken as it is
  const installedByHand = () => {
    try {
      return (
        statSync(join(root, 'node_modules/.package-lock.json')).mtimeMs >=
        statSync(join(root, 'package-lock.json')).mtimeMs
      );
    } catch {
      return false;
    }
  };
  const installed = stamped || (!existsSync(modulesStamp) && installedByHand());
  // a worktree sharing another checkout's node_modules: npm ci would empty the folder it points to
  const shared = (() => {
    try {
      return lstatSync(join(root, 'node_modules')).isSymbolicLink();
    } catch {
      return false;
    }
  })();
  if (installed) {
    step('node_modules', 'up to date');
  } else if (shared) {
    step('node_modules', "a link to another checkout's node_modules: taken as it is (no npm ci here)");
  } else {
    needSpace(NEED_MB.node_modules, 'node_modules');
    step('node_modules', "npm ci (Electron's binary only where ELECTRON_SKIP_BINARY_DOWNLOAD is unset)");
    const env = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: process.env.ELECTRON_SKIP_BINARY_DOWNLOAD ?? '1' };
    if (!run('npm', ['ci', '--no-audit', '--no-fund'], { env }))
      fail('npm ci failed: is the npm registry reachable? (the output above names the package)');
  }
  if (!stamped && !shared && existsSync(join(root, 'node_modules'))) writeFileSync(modulesStamp, lockHash);

  // 4. the pinned binaries (CNI plugins 1.9.1; for the tests, Go and libcni's and go-cni's source)
  const bundles = missingBundles(mode === 'test');
  if (bundles.length === 0) {
    step('pinned binaries', `present in ${relative(root, PINNED) || PINNED}`);
  } else {
    needSpace(
      bundles.reduce((n, b) => n + (NEED_MB.pinned[b.name] ?? 100), 0),
      bundles.map((b) => b.name).join(', '),
    );
    try {
      fetchBundles(bundles, (s) => step('pinned binaries', s.replace(/^podnet set-up: /, '')));
    } catch (e) {
      fail(e.message);
    }
  }

  // 5. the build, only when what it reads changed since it last ran (a stamp of paths, sizes and times)
  // scripts/: only build-native.mjs is part of the build (ensure.mjs, start.mjs … only run it); the app does
  // not need a new build for a changed test or benchmark (npm test's own check builds them)
  const INPUTS = ['src-main', 'src-renderer', 'bin', 'resources', ...(mode === 'test' ? ['test', 'bench'] : [])];
  const INPUT_FILES = [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'electron.vite.config.ts',
    'scripts/build-native.mjs',
  ];
  const OUTPUTS = [
    'out/src-main/web/main.js',
    'out/native/world-init',
    'out/native/pause',
    'out/native/pty-exec',
    'out/native/node-holder',
  ];
  /** What every build writes afresh (tsc, electron-vite): a build is newer than its sources when these are. */
  const REWRITTEN = ['out/src-main/web/main.js', 'out/main/main.js', 'out/renderer/index.html'];
  /** The newest source file's mtime, found by sourcesSignature's walk. */
  let newest = 0;
  function sourcesSignature() {
    const h = createHash('sha256');
    const walk = (d) => {
      let entries;
      try {
        entries = readdirSync(join(root, d), { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
        const p = `${d}/${e.name}`;
        if (e.isDirectory()) walk(p);
        else if (e.isFile()) {
          const s = statSync(join(root, p));
          h.update(`${p}\0${s.size}\0${s.mtimeMs}\n`);
          newest = Math.max(newest, s.mtimeMs);
        }
      }
    };
    for (const d of INPUTS) walk(d);
    for (const f of INPUT_FILES) {
      try {
        const s = statSync(join(root, f));
        h.update(`${f}\0${s.size}\0${s.mtimeMs}\n`);
        newest = Math.max(newest, s.mtimeMs);
      } catch {
        /* optional */
      }
    }
    return h.digest('hex');
  }
  const buildStamp = join(root, 'out', `.build-stamp-${mode}`);
  const signature = sourcesSignature();
  const buildStamped = (() => {
    try {
      return readFileSync(buildStamp, 'utf8') === signature;
    } catch {
      return false;
    }
  })();
  // a build run by hand (npm run build) writes no stamp: its outputs, newer than every source, say it is current
  const builtByHand = () => {
    try {
      return REWRITTEN.every((o) => statSync(join(root, o)).mtimeMs >= newest);
    } catch {
      return false;
    }
  };
  const outputs = OUTPUTS.every((o) => existsSync(join(root, o)));
  if (outputs && (buildStamped || builtByHand())) {
    if (!buildStamped) writeFileSync(buildStamp, signature);
    step('build', 'up to date');
  } else {
    step('build', existsSync(buildStamp) ? 'sources changed: building' : 'building');
    if (quiet)
      process.stderr.write('podnet: the sources changed since the last build: building first (npm run build)…\n');
    if (!run('npm', ['run', '-s', 'build'], quiet ? { stdio: ['ignore', 'ignore', 'inherit'] } : {}))
      fail('the build failed (the output above says where)');
    writeFileSync(buildStamp, signature);
  }

  // 6. for the tests: the real libcni and go-cni, built from Debian's source with Debian's Go
  if (mode === 'test' && existsSync(join(root, 'scripts/build-libcni-oracle.mjs'))) {
    if (!run(process.execPath, [join(root, 'scripts/build-libcni-oracle.mjs')]))
      fail('the libcni oracle did not build');
  }

  // 7. user namespaces: without them no world starts (the doctor says the fix: AppArmor's, or the VM)
  const userns = spawnSync('unshare', ['--user', '--map-root-user', '--net', 'true'], { encoding: 'utf8' });
  if (userns.status !== 0) {
    const msg = 'this machine does not let you create user namespaces: no lab world can start';
    if (mode === 'test')
      fail(`${msg}\n  run "node bin/podnet.mjs doctor" for the fix (an AppArmor profile on Ubuntu, or the VM)`);
    step('user namespaces', `${msg}; the app will say how to fix it`);
  }
  step('ready', `in ${Date.now() - started} ms`);
}

// run as a script: node scripts/ensure.mjs app|test
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) ensure(process.argv[2]);
