// podnet doctor: everything a lab world needs, each failure with the exact fix.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PINNED_PLUGINS_VERSION, PLUGIN_DIRS, pluginSet } from './paths.js';
import { detectCgroup } from './cgroup.js';
import { WORLD_NAMESPACES, worldInitBinary } from './world-init.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
  /** Not needed for a world to start, only by some labs: reported, never counted as a problem. */
  warn?: boolean;
}

const apt = (pkg: string) =>
  `sudo apt-get install ${pkg}   (Fedora: sudo dnf install ${pkg}; Arch: sudo pacman -S ${pkg})`;

/** Tools some labs run inside the world (from the host's files): the world starts without them. */
const LAB_TOOLS = [
  { cmd: 'tcpdump', pkg: 'tcpdump', why: 'lab 10 captures VXLAN on the underlay' },
  { cmd: 'fakeroot', pkg: 'fakeroot', why: "lab 10: lets tcpdump's user switch pass in a user namespace" },
  { cmd: 'dnsmasq', pkg: 'dnsmasq', why: 'lab 13 runs a DNS and DHCP server in a pod' },
] as const;

export function labToolChecks(find: (cmd: string) => string | undefined = which): Check[] {
  return LAB_TOOLS.map(({ cmd, pkg, why }) => {
    const at = find(cmd);
    return at
      ? { name: cmd, ok: true, detail: at }
      : { name: cmd, ok: false, warn: true, detail: `not installed (${why})`, fix: apt(pkg) };
  });
}

const REQUIRED_PLUGINS = ['bridge', 'host-local', 'loopback', 'portmap'];

/** How to provide the pinned plugin set where set-up cannot take it from Debian's archive. */
const PROVIDE_PLUGINS =
  `run "node scripts/pinned.mjs" (Debian and Ubuntu: it takes containernetworking-plugins ${PINNED_PLUGINS_VERSION} from Debian's archive, installing nothing), ` +
  `or unpack the CNI plugins v${PINNED_PLUGINS_VERSION} release (github.com/containernetworking/plugins) into pinned/cni-plugins/bin, or set PODNET_CNI_PATH to a folder that has them`;

/** The CNI plugin set a world uses: where it is, what it is, and whether it is the one the labs are written for. */
export function pluginChecks(env: NodeJS.ProcessEnv = process.env): Check[] {
  const set = pluginSet(env);
  const dirs = set.dirs;
  if (dirs.length === 0) {
    const where = env.PODNET_CNI_PATH ? `PODNET_CNI_PATH (${env.PODNET_CNI_PATH})` : PLUGIN_DIRS.join(', ');
    return [
      {
        name: 'CNI plugins',
        ok: false,
        detail: `none in ${where}`,
        fix: `${apt('containernetworking-plugins')}, or set PODNET_CNI_PATH to your plugin folder; better: ${PROVIDE_PLUGINS}`,
      },
    ];
  }
  const missing = REQUIRED_PLUGINS.filter((p) => !dirs.some((d) => existsSync(join(d, p))));
  const bridge = dirs.map((d) => join(d, 'bridge')).find((p) => existsSync(p));
  let speaks = '';
  if (bridge) {
    const v = spawnSync(bridge, [], {
      input: '{"cniVersion":"1.0.0"}',
      env: { CNI_COMMAND: 'VERSION' },
      encoding: 'utf8',
      timeout: 5000,
    });
    try {
      speaks = (JSON.parse(v.stdout) as { supportedVersions: string[] }).supportedVersions.at(-1) ?? '';
    } catch {
      /* old or broken plugin */
    }
  }
  const what =
    set.source === 'pinned'
      ? `the pinned set${set.version ? ` (containernetworking-plugins ${set.version})` : ''}`
      : set.source === 'system'
        ? `the system's (a fallback: the pinned ${PINNED_PLUGINS_VERSION} set is not in pinned/cni-plugins)`
        : 'PODNET_CNI_PATH';
  const checks: Check[] = [
    {
      name: 'CNI plugins',
      ok: missing.length === 0,
      detail: `${what}: ${dirs.join(', ')}${missing.length ? `; missing ${missing.join(', ')}` : ''}${speaks ? `; bridge speaks CNI ${speaks}` : ''}`,
      ...(missing.length ? { fix: PROVIDE_PLUGINS } : {}),
    },
  ];
  // plugins before 1.1.0 of the spec have no STATUS or GC: the labs on them fail, the rest run
  if (speaks && speaks !== '1.1.0' && missing.length === 0) {
    checks.push({
      name: 'CNI 1.1.0',
      ok: false,
      warn: true,
      detail: `these plugins speak CNI up to ${speaks}: the labs on STATUS and GC need ${PINNED_PLUGINS_VERSION}`,
      fix: PROVIDE_PLUGINS,
    });
  }
  return checks;
}

function readSysctl(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function which(cmd: string): string | undefined {
  for (const d of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = join(d, cmd);
    if (d && existsSync(p)) return p;
  }
  return undefined;
}

function run(argv: string[], timeoutMs = 5000) {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: timeoutMs });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim(), error: r.error?.message };
}

/** The AppArmor profile that lets this program create user namespaces (Ubuntu 23.10+). */
export function apparmorProfile(exe = process.execPath): string {
  return [
    'abi <abi/4.0>,',
    'include <tunables/global>',
    '',
    `profile podnet-lab ${exe} flags=(unconfined) {`,
    '  userns,',
    '  include if exists <local/podnet-lab>',
    '}',
  ].join('\n');
}

/**
 * Whether a world's namespaces can be made here: the real probe, with the namespaces a world uses, and
 * bringing lo up; on failure, the fix for this machine (the bundled VM where nothing else will do).
 */
export function userNamespaceCheck(root = process.getuid?.() === 0): Check {
  const probe = run(['unshare', ...WORLD_NAMESPACES, 'sh', '-c', 'ip link set lo up && ip -o link show lo']);
  let fix: string | undefined;
  // the sysctls only pick the fix (the app asks this at start: a probe that worked reads nothing more)
  if (!probe.ok) {
    const clone = readSysctl('/proc/sys/kernel/unprivileged_userns_clone');
    const maxNs = readSysctl('/proc/sys/user/max_user_namespaces');
    if (readSysctl('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === '1') {
      fix =
        `AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1). Allow Podnet Lab:\n` +
        `      sudo tee /etc/apparmor.d/podnet-lab <<'EOF'\n${apparmorProfile().replace(/^/gm, '      ')}\n      EOF\n` +
        `      sudo apparmor_parser -r /etc/apparmor.d/podnet-lab\n` +
        `    (last resort, for the whole machine: sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0)\n` +
        `    or, changing nothing on this machine, run the worlds in the bundled VM: npm run vm:build, then npm start -- --vm (docs/vm.md)`;
    } else if (clone === '0') {
      fix =
        'unprivileged user namespaces are disabled: sudo sysctl kernel.unprivileged_userns_clone=1 (and add it to /etc/sysctl.d/ to keep it)';
    } else if (maxNs === '0') {
      fix = 'user namespaces are disabled: sudo sysctl user.max_user_namespaces=15000';
    } else {
      fix =
        'user namespaces do not work on this kernel; run the worlds in the bundled VM instead: npm run vm:build, then npm start -- --vm (docs/vm.md)';
    }
  }
  return {
    name: 'user namespaces (unshare -Urnm --pid, lo up)',
    ok: probe.ok && /LOOPBACK,UP/.test(probe.out),
    detail: probe.ok ? `works${root ? ' (as root)' : ''}` : probe.out || probe.error || 'failed',
    ...(fix ? { fix } : {}),
  };
}

export function runDoctor(): Check[] {
  const checks: Check[] = [];
  const root = process.getuid?.() === 0;

  // util-linux: unshare and nsenter
  const unshare = which('unshare');
  checks.push(
    unshare
      ? { name: 'util-linux (unshare)', ok: true, detail: run(['unshare', '--version']).out.split('\n')[0] ?? unshare }
      : { name: 'util-linux (unshare)', ok: false, detail: 'unshare is not installed', fix: apt('util-linux') },
  );

  if (unshare) checks.push(userNamespaceCheck(root));
  const restrict = readSysctl('/proc/sys/kernel/apparmor_restrict_unprivileged_userns');
  checks.push({
    name: 'AppArmor user namespace restriction',
    ok: restrict !== '1' || checks.some((c) => c.name.startsWith('user namespaces') && c.ok),
    detail:
      restrict === undefined
        ? 'not present (no AppArmor restriction)'
        : `kernel.apparmor_restrict_unprivileged_userns=${restrict}`,
    ...(restrict === '1' ? { fix: `load the profile shown above for ${process.execPath}` } : {}),
  });

  // iproute2 with JSON output
  const ipJson = run(['ip', '-json', 'link', 'show', 'lo']);
  checks.push(
    ipJson.ok && ipJson.out.startsWith('[')
      ? { name: 'iproute2', ok: true, detail: run(['ip', '-V']).out }
      : { name: 'iproute2', ok: false, detail: ipJson.error ?? 'ip -json does not work', fix: apt('iproute2') },
  );

  // CNI plugins: the pinned set, PODNET_CNI_PATH's, or the system's as a fallback
  checks.push(...pluginChecks());

  // busybox: pause, containers, ping, httpd
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  checks.push(
    busybox
      ? { name: 'busybox', ok: true, detail: busybox }
      : { name: 'busybox', ok: false, detail: 'not installed', fix: apt('busybox-static') },
  );

  // nftables or iptables (portmap, firewall and bridge's ipMasq use them, inside the world only)
  const nft = which('nft');
  const ipt = which('iptables');
  checks.push(
    nft || ipt
      ? { name: 'nftables or iptables', ok: true, detail: [nft, ipt].filter(Boolean).join(', ') }
      : {
          name: 'nftables or iptables',
          ok: false,
          detail: 'neither nft nor iptables is installed',
          fix: apt('iptables nftables'),
        },
  );

  // dnsmasq: the cluster DNS server of lab 13 (a stand-in for CoreDNS, in a pod)
  const dnsmasq = which('dnsmasq');
  checks.push(
    dnsmasq
      ? { name: 'dnsmasq', ok: true, detail: dnsmasq }
      : {
          name: 'dnsmasq',
          ok: false,
          detail: 'not installed (lab 13 runs it as the cluster DNS)',
          fix: apt('dnsmasq-base'),
        },
  );

  // world-init, the sandbox's init (built with a C compiler at install)
  try {
    checks.push({ name: 'world-init (built)', ok: true, detail: worldInitBinary() });
  } catch (e) {
    checks.push({
      name: 'world-init (built)',
      ok: false,
      detail: (e as Error).message,
      fix: 'sudo apt-get install build-essential && npm run build',
    });
  }

  checks.push(...labToolChecks());

  // the engine's memory watch bounds every world; a cgroup is only detected (docs/reliability.md)
  const cg = detectCgroup();
  checks.push({
    name: 'world memory bound',
    ok: true,
    detail: `the engine's memory watch (sum of the world's PSS); cgroup: ${cg.kind === 'v2-delegated' ? `v2, delegated at ${cg.parent} (not used yet)` : cg.reason}`,
  });

  const major = Number(process.versions.node.split('.')[0]);
  checks.push({
    name: 'Node.js',
    ok: major >= 20,
    detail: process.version,
    ...(major < 20 ? { fix: 'install Node.js 20 or later' } : {}),
  });
  return checks;
}

/** What the doctor finds wrong, each with its fix: shown wherever a world failed to start (UI and CLI). */
export function doctorFix(checks: Check[] = runDoctor()): string | undefined {
  const failing = checks.filter((c) => !c.ok && !c.warn);
  return failing.length
    ? failing.map((c) => `${c.name}: ${c.detail}${c.fix ? `\n  fix: ${c.fix}` : ''}`).join('\n')
    : undefined;
}

export function formatDoctor(checks: Check[]): string {
  const lines = checks.map(
    (c) => `${c.ok ? '✓' : c.warn ? '!' : '✗'} ${c.name}: ${c.detail}${c.fix && !c.ok ? `\n    fix: ${c.fix}` : ''}`,
  );
  const bad = checks.filter((c) => !c.ok && !c.warn).length;
  const warned = checks.filter((c) => !c.ok && c.warn).length;
  lines.push(
    '',
    bad
      ? `${bad} problem${bad > 1 ? 's' : ''} found: the lab world cannot start until ${bad > 1 ? 'they are' : 'it is'} fixed.`
      : 'Everything a lab world needs is here.',
  );
  if (warned)
    lines.push(
      `${warned} tool${warned > 1 ? 's' : ''} some labs use ${warned > 1 ? 'are' : 'is'} missing (marked !): those labs' steps fail until ${warned > 1 ? 'they are' : 'it is'} installed.`,
    );
  return lines.join('\n');
}
