// The pinned binaries a lab world and the tests use, taken from Debian's own archive without installing
// anything on the host: `apt-get download` from the newest suite (through the mirror the system already
// uses, with a temporary sources list derived from the system's), then `dpkg-deb -x` into pinned/<bundle>.
// Usage: node scripts/pinned.mjs [--tests] [--check]   (--check: only say what is missing; exit 1 if so)
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PINNED = process.env.PODNET_PINNED_DIR || join(root, 'pinned');
/** Debian's development suite: the newest packages, built for the same architecture. */
const SUITE = 'sid';
/** Debian 12's own suite: for what must link against its glibc (the newest suite's runc needs a newer one). */
const STABLE = 'bookworm';

/**
 * Each bundle: the Debian packages (name → upstream version wanted), what of them is kept, and whether
 * only the tests need it. The Debian revision may change; the upstream version may not.
 */
export const BUNDLES = [
  {
    name: 'cni-plugins',
    why: 'the CNI plugins 1.9.1 every lab world runs (CNI 1.1.0: STATUS and GC)',
    packages: { 'containernetworking-plugins': '1.9.1' },
    keep: [['usr/lib/cni', 'bin']],
    tests: false,
  },
  {
    name: 'go-toolchain',
    why: "Go, to build the real libcni and go-cni the differential test compares with (Debian's golang-1.27)",
    packages: { 'golang-1.27-go': '1.27', 'golang-1.27-src': '1.27' },
    keep: [['usr', 'usr']],
    tests: true,
  },
  {
    name: 'go-sources',
    why: 'the source of libcni 1.3 and go-cni 1.1.13, as Debian packages them',
    packages: { 'golang-github-appc-cni-dev': '1.3.0', 'golang-github-containerd-go-cni-dev': '1.1.13' },
    keep: [['usr', 'usr']],
    tests: true,
  },
  {
    name: 'containerd',
    why: "the real containerd 2.1.9 a world can run instead of the model (runtime: containerd), with Debian 12's runc",
    packages: { containerd: '2.1.9', runc: '1.1.5' },
    keep: [
      ['usr/bin/containerd', 'bin/containerd'],
      ['usr/bin/containerd-shim-runc-v2', 'bin/containerd-shim-runc-v2'],
      ['usr/bin/ctr', 'bin/ctr'],
      ['usr/sbin/runc', 'bin/runc'],
    ],
    tests: false,
  },
  {
    name: 'cri-api',
    why: "the CRI's gRPC definition (k8s.io/cri-api v1), which the kubelet loads to speak to the real containerd",
    packages: { 'golang-k8s-cri-api-dev': '0.36' },
    keep: [['usr/share/gocode/src/k8s.io/cri-api/pkg/apis/runtime/v1/api.proto', 'api.proto']],
    tests: false,
  },
  {
    name: 'control-plane',
    why: "the real kubectl 1.36 on every node's PATH, and the real etcd (Debian 12's 3.4) as the API server's store",
    packages: { kubectl: '1.36', 'etcd-server': '3.4.23', 'etcd-client': '3.4.23' },
    keep: [
      ['usr/bin/kubectl', 'bin/kubectl'],
      ['usr/bin/etcd', 'bin/etcd'],
      ['usr/bin/etcdctl', 'bin/etcdctl'],
    ],
    tests: false,
  },
];

const stampOf = (b) =>
  Object.entries(b.packages)
    .map(([p, v]) => `${p} ${v}`)
    .join('\n') + '\n';
const stampFile = (b) => join(PINNED, b.name, '.pinned');

/** Whether pinned/<bundle> holds what the bundle pins now. */
export function isPresent(b) {
  try {
    return readFileSync(stampFile(b), 'utf8').split('\n---\n')[0] === stampOf(b).trimEnd();
  } catch {
    return false;
  }
}

/** The bundles the app (and, with tests, the test suite) needs that pinned/ lacks. */
export function missingBundles(tests) {
  return BUNDLES.filter((b) => (tests || !b.tests) && !isPresent(b));
}

/** The system's APT source files: sources.list.d's, then sources.list. */
function systemSourceFiles() {
  let parts = [];
  try {
    parts = readdirSync('/etc/apt/sources.list.d')
      .filter((f) => f.endsWith('.sources') || f.endsWith('.list'))
      .map((f) => join('/etc/apt/sources.list.d', f));
  } catch {
    /* none */
  }
  return [...parts, '/etc/apt/sources.list'];
}

/**
 * A deb822 sources list for the newest suite, derived from the system's: the Debian archive entries it
 * already uses (not security or updates), with the suite replaced. No host name is written anywhere.
 */
export function newestSuiteSources(files = systemSourceFiles()) {
  const stanzas = [];
  for (const f of files) {
    let text;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    if (f.endsWith('.sources')) {
      for (const block of text.split(/\n\s*\n/)) {
        const field = (k) => new RegExp(`^${k}:\\s*(.+)$`, 'mi').exec(block)?.[1].trim();
        const uris = field('URIs');
        const suites = field('Suites') ?? '';
        // a stanza of the main archive names the release itself among its suites (bookworm, not only bookworm-updates)
        const release = suites.split(/\s+/).some((x) => x && !/-(security|updates|backports)$|\/updates$/.test(x));
        if (!uris || !/\bdeb\b/.test(field('Types') ?? '') || !release) continue;
        if (!/main/.test(field('Components') ?? '')) continue;
        const signed = field('Signed-By');
        stanzas.push({ uris, signed });
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^\s*deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.*)$/.exec(line);
        if (!m || /(-security|-updates|-backports)/.test(m[3]) || !/\bmain\b/.test(m[4])) continue;
        const signed = /signed-by=(\S+?)[\s\]]/.exec(m[1] ?? '')?.[1];
        stanzas.push({ uris: m[2], signed });
      }
    }
  }
  const seen = new Set();
  return stanzas
    .filter((s) => !seen.has(s.uris) && seen.add(s.uris))
    .map(
      (s) =>
        `Types: deb\nURIs: ${s.uris}\nSuites: ${SUITE} ${STABLE}\nComponents: main\n` +
        (s.signed ? `Signed-By: ${s.signed}\n` : ''),
    )
    .join('\n');
}

function aptOptions(work) {
  return [
    '-o',
    `Dir::Etc::SourceList=${join(work, 'newest.sources')}`,
    '-o',
    'Dir::Etc::SourceParts=/dev/null',
    '-o',
    `Dir::State::Lists=${join(work, 'lists')}`,
    '-o',
    `Dir::Cache=${join(work, 'cache')}`,
    '-o',
    `Dir::State::Status=${join(work, 'status')}`,
    '-o',
    'Debug::NoLocking=1',
    '-o',
    'APT::Sandbox::User=' + (process.getuid?.() === 0 ? 'root' : process.env.USER || 'nobody'),
    '-q',
  ];
}

/** Downloads and unpacks the given bundles into pinned/; throws an Error that says what to do. */
export function fetchBundles(bundles, log = (s) => console.log(s)) {
  if (!bundles.length) return;
  if (!existsSync('/usr/bin/apt-get') || !existsSync('/usr/bin/dpkg-deb')) {
    throw new Error(
      `pinned binaries are missing (${bundles.map((b) => b.name).join(', ')}), and this machine has no apt-get/dpkg-deb ` +
        `to take them from Debian's archive. Put the CNI plugins 1.9.1 (github.com/containernetworking/plugins releases) ` +
        `in ${join(PINNED, 'cni-plugins/bin')}, or set PODNET_CNI_PATH to a folder that has them.`,
    );
  }
  const sources = newestSuiteSources();
  if (!sources) throw new Error('no Debian archive entry in /etc/apt/sources.list(.d): cannot derive the newest suite');
  mkdirSync(PINNED, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), 'podnet-pinned-'));
  try {
    for (const d of ['lists/partial', 'cache/archives/partial', 'debs']) mkdirSync(join(work, d), { recursive: true });
    writeFileSync(join(work, 'newest.sources'), sources);
    writeFileSync(join(work, 'status'), '');
    const opts = aptOptions(work);
    log(`podnet set-up: reading the package index of Debian's ${SUITE} suite (through this system's mirror)`);
    const up = spawnSync('apt-get', [...opts, 'update'], { encoding: 'utf8' });
    if (up.status !== 0) {
      throw new Error(
        `apt-get update for the ${SUITE} suite failed: ${(up.stderr || up.stdout).trim().split('\n').slice(-3).join(' | ')}\n` +
          `  needed: ${bundles.map((b) => Object.keys(b.packages).join(', ')).join(', ')}`,
      );
    }
    for (const b of bundles) {
      const debs = [];
      for (const [pkg, upstream] of Object.entries(b.packages)) {
        const madison = spawnSync('apt-cache', [...opts, 'madison', pkg], { encoding: 'utf8' }).stdout ?? '';
        const versions = madison
          .split('\n')
          .map((l) => l.split('|')[1]?.trim())
          .filter(Boolean);
        const version = versions.find((v) => v.replace(/^\d+:/, '').startsWith(upstream));
        if (!version) {
          throw new Error(
            `Debian's ${SUITE} suite has no ${pkg} ${upstream} (it has ${versions.join(', ') || 'none'}): ` +
              `the pin in scripts/pinned.mjs must follow, or provide the binaries yourself (see docs/requirements.md)`,
          );
        }
        log(`podnet set-up: downloading ${pkg} ${version}`);
        const dl = spawnSync('apt-get', [...opts, 'download', `${pkg}=${version}`], {
          cwd: join(work, 'debs'),
          encoding: 'utf8',
        });
        if (dl.status !== 0) throw new Error(`apt-get download ${pkg}=${version} failed: ${dl.stderr.trim()}`);
        debs.push(`${pkg} ${version}`);
      }
      const x = join(work, 'x-' + b.name);
      mkdirSync(x);
      for (const f of readdirSync(join(work, 'debs')).filter((f) => f.endsWith('.deb'))) {
        execFileSync('dpkg-deb', ['-x', join(work, 'debs', f), x]);
        rmSync(join(work, 'debs', f));
      }
      const staged = join(PINNED, `.${b.name}.new`);
      rmSync(staged, { recursive: true, force: true });
      mkdirSync(staged, { recursive: true });
      for (const [from, to] of b.keep) {
        mkdirSync(dirname(join(staged, to)), { recursive: true });
        renameSync(join(x, from), join(staged, to));
      }
      writeFileSync(join(staged, '.pinned'), `${stampOf(b).trimEnd()}\n---\n${debs.join('\n')}\n`);
      rmSync(join(PINNED, b.name), { recursive: true, force: true });
      renameSync(staged, join(PINNED, b.name));
      log(`podnet set-up: ${b.name} ready in ${join(PINNED, b.name)}`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const tests = process.argv.includes('--tests');
  const missing = missingBundles(tests);
  if (process.argv.includes('--check')) {
    for (const b of missing) console.log(`missing: ${b.name} — ${b.why}`);
    process.exit(missing.length ? 1 : 0);
  }
  try {
    fetchBundles(missing);
  } catch (e) {
    console.error(`podnet set-up: ${e.message}`);
    process.exit(1);
  }
}
