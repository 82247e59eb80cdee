// A lab world: one sandbox (user + net + mount + pid namespaces) held by world-init, in a root of its
// own, with nodes (network + mount + uts namespaces) wired by an underlay bridge. Nothing of it
// touches the host's network namespace or disk, and when world-init's lifeline closes everything of it is gone.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  existsSync,
  openSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  statfsSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { totalmem } from 'node:os';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { appRoot, containerdBinDir, controlPlaneBinDir, hostPluginDirs, stateRoot, sweepStaleWorlds } from './paths.js';
import { MemoryWatch } from './memory-watch.js';
import { childrenOf } from './procfs.js';
import type { WorldInitReserve } from './world-init-reserve.js';
import {
  nativeBinary,
  WorldInit,
  type ExecResult,
  type NsPlacement,
  type RootSpec,
  type SpawnRequest,
  type WorldLimits,
  type WorldProcess,
} from './world-init.js';

/** The CNI paths a node has, as in a real node. */
export const NODE_PATHS = {
  confDir: '/etc/cni/net.d',
  binDir: '/opt/cni/bin',
  dataDir: '/var/lib/cni',
  netnsDir: '/run/netns',
  /** The node's resolver config: what kubelet reads as --resolv-conf, and what a "Default" pod copies. */
  resolvConf: '/etc/resolv.conf',
  /** containerd 2.1's per-sandbox files (hostname, hosts, resolv.conf), in its CRI root dir. */
  sandboxesDir: '/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes',
  /** Container logs, where kubelet asks the runtime to write them. */
  podLogsDir: '/var/log/pods',
} as const;

/** The search domain every node's resolv.conf has (RFC 2606 .example: it can never be a real one). */
export const NODE_SEARCH_DOMAIN = 'lab.example';

/**
 * A node's /etc/resolv.conf: its own underlay address as nameserver (inside the world, and nothing
 * listens there, so a query fails at once rather than leaving the world) and the lab's search domain.
 */
export const nodeResolvConf = (underlayIp: string) => `nameserver ${underlayIp}\nsearch ${NODE_SEARCH_DOMAIN}\n`;

/**
 * The control plane's address on the underlay (the sandbox's bridge), where every node reaches the API
 * server and etcd; the kubeconfig kubectl finds in every node names it.
 */
export const CONTROL_PLANE = { ip: '192.0.2.10', apiPort: 6443, etcdPort: 2379 } as const;
export const KUBECONFIG_PATH = '/opt/podnet/bin/.kubeconfig';
/** While the app starts a world's control plane, and when it could not (the reason, for kubectl to print). */
export const CONTROL_PLANE_MARKERS = {
  starting: '/opt/podnet/bin/.control-plane-starting',
  failed: '/opt/podnet/bin/.control-plane-failed',
} as const;

/** Documentation range (RFC 5737) for the underlay: it can never collide with a real network. */
export const UNDERLAY = { bridge: 'underlay0', prefix: '192.0.2.', firstHost: 11, mask: 24 } as const;

/** Busybox applets a lab needs (ping, httpd, nc, …), offered where the host has no tool of that name. */
export const TOOLS_DIR = '/opt/podnet/bin';
const APPLETS = [
  'ping',
  'ping6',
  'arping',
  'traceroute',
  'nc',
  'httpd',
  'wget',
  'telnet',
  'nslookup',
  'ps',
  'top',
  'less',
  'vi',
  'hexdump',
  'brctl',
  'ipcalc',
];
const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'];

export const WORLD_PATH = `${TOOLS_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

export type Target =
  | { kind: 'sandbox' }
  | { kind: 'node'; node: string }
  /** A pod's network namespace, pinned on its node (for example /run/netns/cni-…). */
  /**
   * A pod's network namespace, pinned on its node (for example /run/netns/cni-…). With `sandboxPid`
   * (its pause process), also the pod's own mounts (its /etc/resolv.conf, hosts) and hostname.
   */
  | { kind: 'pod'; node: string; netns: string; sandboxPid?: number };

export interface RunOptions {
  input?: string | Buffer;
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
  timeoutSignal?: number;
  /** How much of each output stream is kept (world-init.ts EXEC_OUTPUT_LIMIT where not given). */
  maxOutputBytes?: number;
}

export interface WorldNode {
  name: string;
  index: number;
  /** Inner PID of the process holding the node's namespaces. */
  holderPid: number;
  underlayIp: string;
  /** Conventional pod CIDR for this node (10.244.<index>.0/24), as a cluster would assign. */
  podCidr: string;
  /**
   * The engine's paths to the node's own folders and files (seen inside the node at NODE_PATHS): in the
   * world's tmpfs, reached through the engine's handle on the world's state folder
   * (/proc/ENGINE-PID/fd/N/nodes/NAME/…, N opened from /proc/WORLD-INIT-PID/root/run/podnet).
   */
  host: {
    confDir: string;
    dataDir: string;
    binUpper: string;
    netnsDir: string;
    resolvConf: string;
    sandboxesDir: string;
    podLogsDir: string;
  };
}

export interface WorldOptions {
  nodes: number | string[];
  /** A lab's working folder: the one host folder the world may write (at its own path). */
  workDir?: string;
  /** Bounds on the world's processes, each process's memory, the world's memory and disk (DEFAULT_LIMITS; 0 lifts one). */
  limits?: Partial<WorldLimits>;
  /**
   * Called once every node's holder is up, before the nodes are wired to the underlay: a node can be
   * entered from then on (a shell started there is at its prompt by the time the world is ready).
   */
  onNodesUp?: (world: World) => void;
  /**
   * A control plane will be started in this world once it runs (free play, a lab that asks): kubectl in
   * its nodes waits for it from the first command on (CONTROL_PLANE_MARKERS.starting is there from the start).
   */
  controlPlaneSoon?: boolean;
  /** A sandbox started ahead (world.prepare): taken when it was made for this world's root and limits. */
  reserve?: WorldInitReserve;
}

/**
 * A lab needs a few dozen processes; a Go CNI plugin reserves about 1 GiB of address space (it fails
 * below that) but touches little: these leave room for a busy lab
 * and stop a fork bomb or a runaway plugin long before the machine notices. The world as a whole
 * gets 2 GiB, or half the machine's memory where that is less.
 */
/** How long an EAGAIN from the world counts as "at its limit": longer than the engine's status tick (5 s). */
export const PROCESS_LIMIT_MEMORY_MS = 6000;

export const DEFAULT_LIMITS: WorldLimits = {
  processes: 1000,
  memoryBytes: 4 * 1024 ** 3,
  worldMemoryBytes: Math.min(2 * 1024 ** 3, Math.floor(totalmem() / 2)),
  diskBytes: 512 * 1024 ** 2,
};

/** Where the world's own state folder is inside the world (in its tmpfs root; world-init.c). */
export const WORLD_STATE_MOUNT = '/run/podnet';

/**
 * Host files a world must not read even as root in its user namespace (when the app itself runs as
 * root, the world's root is the host's): password hashes and the host's SSH keys. world-init also
 * hides every file of /etc that only the host's root may read.
 */
const HIDDEN_FILES = ['/etc/shadow', '/etc/shadow-', '/etc/gshadow', '/etc/gshadow-', '/etc/sudoers'];
const HIDDEN_DIRS = ['/etc/ssh', '/etc/sudoers.d'];

/** What the world's root is built from: the app's and Node.js's folders, the plugin folders, the lab's folder. */
export function rootSpec(id: string, pluginDirs: string[], workDir: string | undefined): RootSpec {
  const app = appRoot();
  // the app and Node.js stay visible, read-only: `podnet` runs inside nodes, and either may live under the
  // home folder (an app cloned there, Node.js from nvm); node_modules may be a link to another checkout
  const containerd = containerdBinDir();
  // pinned/ may be a link to another checkout (a git worktree's): its real folders come in by name
  const controlPlane = controlPlaneBinDir();
  const wanted = [
    app,
    dirname(dirname(process.execPath)),
    ...pluginDirs,
    ...(containerd ? [containerd] : []),
    ...(controlPlane ? [controlPlane] : []),
  ];
  try {
    wanted.push(realpathSync(join(app, 'node_modules')));
  } catch {
    /* no node_modules: a packaged app */
  }
  const real = [...new Set(wanted.map((d) => resolve(d)))].filter((d) => d !== '/');
  // a folder under another one comes with it (a child could not be made inside a read-only parent)
  const readOnly = real.filter((d) => !real.some((o) => o !== d && d.startsWith(o + '/'))).sort();
  return {
    readOnly,
    writable: workDir ? [resolve(workDir)] : [],
    hideDirs: HIDDEN_DIRS,
    hideFiles: HIDDEN_FILES,
    mkdirs: MOUNTPOINTS,
    id,
  };
}

/** A new world's id: the engine's PID (a crash's leftovers are swept by it) and a random part. */
export function newWorldId(): string {
  return `world-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export class WorldError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WorldError';
  }
}

const NODE_NAME = /^[a-z][a-z0-9]{0,9}$/;

/** Quotes a string for sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Folders every node mounts over: world-init makes them where the host lacks them. */
export const MOUNTPOINTS = [
  NODE_PATHS.confDir,
  NODE_PATHS.binDir,
  NODE_PATHS.dataDir,
  NODE_PATHS.sandboxesDir,
  NODE_PATHS.podLogsDir,
  TOOLS_DIR,
  // the real containerd's config folder (runtime: containerd), each node's own
  '/etc/containerd',
];

/** Whether a process prints `line` before it exits (output that came before this call counts). */
function untilLine(p: WorldProcess, out: () => string, line: string): Promise<boolean> {
  if (out().includes(line)) return Promise.resolve(true);
  return Promise.race([
    new Promise<boolean>((res) => p.on('stdout', () => out().includes(line) && res(true))),
    p.exited.then(() => out().includes(line)),
  ]);
}

/** A node's namespaces, entered through its holder process. */
const nodePlacement = (holderPid: number): NsPlacement => ({
  nsPid: holderPid,
  joinMount: true,
  joinNet: true,
  joinUts: true,
});

/** Where a world's start went, in ms (the benchmark prints them): checks, world-init, reaching its root, the sandbox's underlay, the nodes. */
export interface WorldStartTimes {
  checks: number;
  init: number;
  root: number;
  underlay: number;
  nodes: number;
  total: number;
}

export class World {
  readonly nodes = new Map<string, WorldNode>();
  /** How long each part of this world's start took. */
  startTimes: WorldStartTimes = { checks: 0, init: 0, root: 0, underlay: 0, nodes: 0, total: 0 };
  /** Whether its sandbox was started ahead (world.prepare), not by this start. */
  fromReserve = false;
  private destroyed = false;
  /** Inner PID of the world's holder: its nested user, mount and network namespaces are the sandbox. */
  private confinedPid = 0;

  /** The world's own long-lived processes (the holder, named world-confine, and the node holders), by inner PID. */
  get holderPids(): number[] {
    return [this.confinedPid, ...[...this.nodes.values()].map((n) => n.holderPid)];
  }

  /**
   * The engine's path to a place in the world's root (/proc/ENGINE-PID/fd/N/…): only for what is made before
   * any lab command runs (a link a lab made later would be followed in the engine's own root).
   */
  rootPath(inWorld: string): string {
    if (this.rootFd < 0) throw new WorldError("the world's root is not reachable: the world has ended");
    return `/proc/${process.pid}/fd/${this.rootFd}${inWorld}`;
  }

  private constructor(
    readonly id: string,
    readonly stateDir: string,
    private readonly init: WorldInit,
    readonly pluginDirs: string[],
    readonly limits: WorldLimits,
  ) {}

  /** Starts a world: the sandbox, its underlay, and its nodes. */
  static async create(opts: WorldOptions): Promise<World> {
    const t0 = performance.now();
    let mark = t0;
    const lap = () => {
      const now = performance.now();
      const ms = now - mark;
      mark = now;
      return ms;
    };
    const names =
      typeof opts.nodes === 'number' ? Array.from({ length: opts.nodes }, (_, i) => `node${i + 1}`) : opts.nodes;
    if (names.length < 1 || names.length > 200) throw new WorldError(`a world has 1 to 200 nodes, not ${names.length}`);
    for (const n of names) {
      if (!NODE_NAME.test(n))
        throw new WorldError(
          `invalid node name "${n}": use a lowercase letter then up to 9 lowercase letters or digits`,
        );
    }
    if (new Set(names).size !== names.length) throw new WorldError('node names must be unique');
    const limits: WorldLimits = { ...DEFAULT_LIMITS, ...opts.limits };
    // a world needs init, world-confine, a holder per node and room to run commands
    if (
      !Number.isInteger(limits.processes) ||
      limits.processes < 0 ||
      (limits.processes > 0 && limits.processes < names.length + 16) ||
      limits.processes > 4_000_000
    ) {
      throw new WorldError(
        `a world of ${names.length} nodes needs a process limit of at least ${names.length + 16} (or 0 for none), not ${limits.processes}`,
      );
    }
    if (
      !Number.isInteger(limits.memoryBytes) ||
      limits.memoryBytes < 0 ||
      (limits.memoryBytes > 0 && limits.memoryBytes < 64 * 1024 ** 2)
    ) {
      throw new WorldError(
        `a world's memory limit per process is at least 64 MiB (or 0 for none), not ${limits.memoryBytes} bytes`,
      );
    }
    if (
      !Number.isInteger(limits.worldMemoryBytes) ||
      limits.worldMemoryBytes < 0 ||
      (limits.worldMemoryBytes > 0 && limits.worldMemoryBytes < 64 * 1024 ** 2)
    ) {
      throw new WorldError(
        `a world's memory limit as a whole is at least 64 MiB (or 0 for none), not ${limits.worldMemoryBytes} bytes`,
      );
    }
    if (
      !Number.isInteger(limits.diskBytes) ||
      limits.diskBytes < 0 ||
      (limits.diskBytes > 0 && limits.diskBytes < 64 * 1024 ** 2)
    ) {
      throw new WorldError(`a world's disk is at least 64 MiB (or 0 for no bound), not ${limits.diskBytes} bytes`);
    }
    if (opts.workDir !== undefined && (!isAbsolute(opts.workDir) || !existsSync(opts.workDir))) {
      throw new WorldError(`the lab's working folder must be an existing absolute path, not "${opts.workDir}"`);
    }
    const pluginDirs = hostPluginDirs();
    if (pluginDirs.length === 0) {
      const where = process.env.PODNET_CNI_PATH
        ? `PODNET_CNI_PATH (${process.env.PODNET_CNI_PATH})`
        : 'pinned/cni-plugins/bin, /opt/cni/bin, /usr/libexec/cni or /usr/lib/cni';
      throw new WorldError(
        `no CNI plugins found in ${where}: run "node scripts/pinned.mjs" (it takes the pinned set from Debian's archive), or install them (Debian/Ubuntu: sudo apt-get install containernetworking-plugins); run "podnet doctor"`,
      );
    }
    // worlds of older versions kept their state on the host: what a crash left of them goes
    sweepStaleWorlds(stateRoot());
    // the sandbox started ahead for this root and these limits, if any: its id is the world's
    const root = rootSpec('', pluginDirs, opts.workDir);
    const reserved = await opts.reserve?.take(root, limits);
    const id = reserved?.id ?? newWorldId();
    const busybox = BUSYBOX.find((b) => existsSync(b));
    if (!busybox) {
      await reserved?.init.close();
      throw new WorldError(
        'busybox is missing: install it (Debian/Ubuntu: sudo apt-get install busybox-static); run "podnet doctor"',
      );
    }
    const checks = lap();
    let init: WorldInit;
    try {
      init = reserved?.init ?? (await WorldInit.start({ ...root, id }, limits));
    } catch (e) {
      throw new WorldError(`${(e as Error).message}\nRun "podnet doctor" to check that user namespaces are usable.`);
    }
    const initMs = lap();
    // the world's files are in its own tmpfs: the engine reaches them through world-init's root
    const initHost = init.outerPid ? childrenOf(init.outerPid)[0] : undefined;
    if (!initHost) {
      await init.close();
      throw new WorldError('the world started, but world-init is not among its processes');
    }
    // held open, so the path stays this world's even if world-init's PID were reused after it ends
    let rootFd: number;
    try {
      rootFd = openSync(`/proc/${initHost}/root`, constants.O_RDONLY | constants.O_DIRECTORY);
    } catch (e) {
      await init.close();
      throw new WorldError(`cannot reach the world's files: ${(e as Error).message}`);
    }
    const worldRoot = `/proc/${process.pid}/fd/${rootFd}`;
    // the state folder itself is held too, opened before any lab runs: a lab that later swaps /run or
    // /run/podnet for a link (to a host path, which the engine would resolve in its own root) is not followed
    let stateFd: number;
    try {
      stateFd = openSync(
        worldRoot + WORLD_STATE_MOUNT,
        constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW,
      );
    } catch (e) {
      closeSync(rootFd);
      await init.close();
      throw new WorldError(`cannot reach the world's state folder: ${(e as Error).message}`);
    }
    const stateDir = `/proc/${process.pid}/fd/${stateFd}`;
    const world = new World(id, stateDir, init, pluginDirs, limits);
    world.startTimes.checks = checks;
    world.startTimes.init = initMs;
    world.fromReserve = !!reserved;
    world.rootFd = rootFd;
    world.stateFd = stateFd;
    world.hostPids.set(1, initHost);
    world.confinedPid = init.holderPid;
    try {
      const missing = MOUNTPOINTS.filter((p) => !existsSync(worldRoot + p));
      if (missing.length) throw new WorldError(`the world could not make ${missing.join(', ')} for its nodes`);
      // busybox's applets where the host has no tool of that name, in the world's own /opt
      const hostBins = WORLD_PATH.split(':').filter((d) => d !== TOOLS_DIR);
      for (const a of APPLETS)
        if (!hostBins.some((d) => existsSync(join(d, a)))) symlinkSync(busybox, join(worldRoot + TOOLS_DIR, a));
      // `podnet` (podnet cni, podnet lab lint) in every node: the app's CLI run by the engine's own Node.js
      const cli = `ELECTRON_RUN_AS_NODE=1 exec ${shq(process.execPath)} ${shq(join(appRoot(), 'bin', 'podnet.mjs'))} "$@"`;
      writeFileSync(join(worldRoot + TOOLS_DIR, 'podnet'), `#!/bin/sh\n${cli}\n`, { mode: 0o755 });
      // the real containerd's client, for nodes that run it (runtime: containerd)
      const containerd = containerdBinDir();
      if (containerd) symlinkSync(join(containerd, 'ctr'), join(worldRoot + TOOLS_DIR, 'ctr'));
      // the real kubectl and etcdctl, pointed at the world's control plane (when it runs: podnet cluster)
      const cp = controlPlaneBinDir();
      if (cp) writeControlPlaneTools(worldRoot + TOOLS_DIR, cp);
      // before any shell runs in a node (onNodesUp): a kubectl typed at the first prompt waits for the control plane
      if (opts.controlPlaneSoon) writeFileSync(worldRoot + CONTROL_PLANE_MARKERS.starting, '');
      world.startTimes.root = lap();
      // the underlay is made while the nodes' holders start: only their veth pairs wait for it
      const underlay = world
        .run({ kind: 'sandbox' }, ['ip', '-batch', '-'], {
          input: [
            'link set lo up',
            `link add ${UNDERLAY.bridge} type bridge`,
            `link set ${UNDERLAY.bridge} up`,
            '',
          ].join('\n'),
        })
        .then(() => (world.startTimes.underlay = performance.now() - mark));
      underlay.catch(() => {}); // awaited below; a node that fails first must not leave it unhandled
      // Nodes start concurrently: each is one process that makes its mounts.
      const holders = await Promise.all(names.map((n, i) => world.startNode(n, i + 1)));
      // enterable now (their namespaces exist); their eth0 comes next
      for (const { node } of holders) world.nodes.set(node.name, node);
      opts.onNodesUp?.(world);
      await underlay;
      // one `ip -batch` in the sandbox for every node's veth pair, its node end moved in as eth0
      await world.run({ kind: 'sandbox' }, ['ip', '-batch', '-'], {
        input: holders
          .map(({ node: { name, holderPid } }) =>
            [
              `link add u-${name} type veth peer name eth0 netns ${holderPid}`,
              `link set u-${name} master ${UNDERLAY.bridge} up`,
              '',
            ].join('\n'),
          )
          .join(''),
      });
      // each holder addresses its eth0 and sets it up (ip addr add, ip link set up)
      await Promise.all(holders.map((h) => h.addressed()));
      world.startTimes.nodes = lap();
      world.startTimes.total = performance.now() - t0;
      // known now, so a killed holder is noticed by its engine-side PID (trouble())
      for (const p of world.holderPids) world.hostPid(p);
      world.watchMemory();
    } catch (e) {
      await world.destroy();
      throw e;
    }
    return world;
  }

  /** The watch on the world's memory as a whole (memory-watch.ts): its `kill` events say whom it ended. */
  memory: MemoryWatch | undefined;

  private watchMemory(): void {
    if (!this.limits.worldMemoryBytes) return;
    this.memory = new MemoryWatch({
      initHostPid: this.hostPid(1),
      limitBytes: this.limits.worldMemoryBytes,
      // the world's own processes are never the ones to go; known by now, so looked up once
      spared: (
        (pids) => () =>
          pids
      )(this.holderPids.map((p) => this.hostPid(p))),
    }).start();
  }

  /** Starts a long-lived world process and waits until it prints `line` (ok) or exits first. */
  private async startHolder(
    req: SpawnRequest,
    line: string,
  ): Promise<{
    proc: WorldProcess;
    pid: number;
    ok: boolean;
    err: () => string;
    until: (l: string) => Promise<boolean>;
  }> {
    const p = this.init.spawn(req);
    let out = '';
    let err = '';
    p.on('stdout', (d) => (out += d.toString()));
    p.on('stderr', (d) => (err += d.toString()));
    const pid = await p.started;
    const ok = await untilLine(p, () => out, line);
    return { proc: p, pid, ok, err: () => err.trim(), until: (l) => untilLine(p, () => out, l) };
  }

  /** Starts a node's holder (its mounts made); `addressed` then has it address eth0, once the engine moved it in. */
  private async startNode(name: string, index: number): Promise<{ node: WorldNode; addressed: () => Promise<void> }> {
    const base = join(this.stateDir, 'nodes', name);
    const host = {
      confDir: join(base, 'etc/cni/net.d'),
      dataDir: join(base, 'var/lib/cni'),
      binUpper: join(base, 'opt/cni/bin-upper'),
      // Pinned pod netns: the host sees each pin as an empty file, so "does it still exist" is a stat.
      netnsDir: join(base, 'run/netns'),
      resolvConf: join(base, 'etc/resolv.conf'),
      sandboxesDir: join(base, 'run/sandboxes'),
      podLogsDir: join(base, 'var/log/pods'),
    };
    const binWork = join(base, 'opt/cni/bin-work');
    for (const d of [
      host.confDir,
      host.dataDir,
      host.binUpper,
      binWork,
      host.netnsDir,
      host.sandboxesDir,
      host.podLogsDir,
    ])
      mkdirSync(d, { recursive: true });
    const underlayIp = `${UNDERLAY.prefix}${UNDERLAY.firstHost + index - 1}`;
    writeFileSync(host.resolvConf, nodeResolvConf(underlayIp));
    // The node's folders, as the world sees them.
    const inner = (p: string) => `${WORLD_STATE_MOUNT}/${relative(this.stateDir, p)}`;
    // node-holder (native/node-holder.c, static) does the node's mounts itself: one exec, where a shell
    // script ran a dozen commands, each an exec
    const ops = [
      ...['hostname', name],
      // from here, relative paths reach the node's folders even once /run is the node's own tmpfs
      ...['chdir', inner(base)],
      ...['bind', inner(host.confDir), NODE_PATHS.confDir],
      ...['bind', inner(host.dataDir), NODE_PATHS.dataDir],
      // The real plugins, with the node's own additions on top (a lab may add a plugin script).
      ...[
        'mount',
        'overlay',
        'podnet-cni-bin',
        `lowerdir=${this.pluginDirs.join(':')},upperdir=${inner(host.binUpper)},workdir=${inner(binWork)}`,
        NODE_PATHS.binDir,
      ],
      ...['mount', 'tmpfs', 'podnet-run', 'mode=0755', '/run'],
      ...['mkdir', NODE_PATHS.netnsDir, 'mkdir', NODE_PATHS.sandboxesDir],
      ...['bind', relative(base, host.netnsDir), NODE_PATHS.netnsDir],
      ...['bind', relative(base, host.sandboxesDir), NODE_PATHS.sandboxesDir],
      ...['bind', relative(base, host.podLogsDir), NODE_PATHS.podLogsDir],
      // after /run is the node's tmpfs: a symlinked /etc/resolv.conf gets its target there
      ...['bind-over', relative(base, host.resolvConf), NODE_PATHS.resolvConf],
      'lo-up',
      // its underlay interface is addressed once the engine has moved it in (a line on stdin)
      ...['eth', 'eth0', `${underlayIp}/${UNDERLAY.mask}`],
      'hold',
    ];
    // a copy of the confined view, with the node's own mounts on top
    const holder = await this.startHolder(
      {
        argv: [nativeBinary('node-holder'), ...ops],
        env: this.baseEnv(),
        nsPid: this.confinedPid,
        joinMount: true,
        newNet: true,
        newMount: true,
        newUts: true,
        stdin: true,
      },
      'ready\n',
    );
    const { pid } = holder;
    if (!holder.ok) throw new WorldError(`node ${name} could not start: ${holder.err() || 'its holder exited'}`);
    const node: WorldNode = { name, index, holderPid: pid, underlayIp, podCidr: `10.244.${index}.0/24`, host };
    // the holder addresses eth0 and sets it up (ip addr add, ip link set up), then says "up"
    const addressed = async () => {
      holder.proc.write('\n');
      holder.proc.end();
      if (!(await holder.until('up\n')))
        throw new WorldError(
          `node ${name}: cannot address its underlay interface: ${holder.err() || 'its holder exited'}`,
        );
    };
    return { node, addressed };
  }

  node(name: string): WorldNode {
    const n = this.nodes.get(name);
    if (!n) throw new WorldError(`no node "${name}" in this world (nodes: ${[...this.nodes.keys()].join(', ')})`);
    return n;
  }

  /** How world-init places a command for a target. */
  placement(target: Target): NsPlacement {
    // the sandbox is the holder's namespaces (world-init's own network namespace stays empty)
    if (target.kind === 'sandbox') return { nsPid: this.confinedPid, joinMount: true, joinNet: true };
    const n = this.node(target.node);
    if (target.kind === 'node') return nodePlacement(n.holderPid);
    // the pause's mount namespace is a copy of the node's (with the pin), plus the pod's own files
    if (target.sandboxPid) return { nsPid: target.sandboxPid, joinMount: true, joinUts: true, netPath: target.netns };
    return { nsPid: n.holderPid, joinMount: true, joinUts: true, netPath: target.netns };
  }

  baseEnv(extra: Record<string, string> = {}): Record<string, string> {
    // The world gets a clean environment: nothing of the engine's leaks in.
    return { PATH: WORLD_PATH, HOME: '/root', LANG: 'C.UTF-8', ...extra };
  }

  /** The environment a command gets: PODNET_NODE names the node it runs on. */
  envFor(target: Target): Record<string, string> {
    return this.baseEnv(target.kind === 'sandbox' ? {} : { PODNET_NODE: target.node });
  }

  /** Runs a command in the sandbox, on a node, or in a pod, and collects exit code and output. */
  async exec(target: Target, argv: string[], opts: RunOptions = {}): Promise<ExecResult> {
    this.assertAlive();
    return this.init.exec(
      { ...this.placement(target), argv, env: opts.env ?? this.envFor(target), ...(opts.cwd ? { cwd: opts.cwd } : {}) },
      {
        ...(opts.input !== undefined ? { input: opts.input } : {}),
        ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
        ...(opts.timeoutSignal ? { timeoutSignal: opts.timeoutSignal } : {}),
        ...(opts.maxOutputBytes ? { maxOutputBytes: opts.maxOutputBytes } : {}),
      },
    );
  }

  /** exec that throws with the command's stderr when it fails. */
  async run(target: Target, argv: string[], opts: RunOptions = {}): Promise<string> {
    const r = await this.exec(target, argv, opts);
    if (r.code !== 0) {
      const where =
        target.kind === 'sandbox'
          ? 'the sandbox'
          : target.kind === 'node'
            ? target.node
            : `pod netns ${target.netns} on ${target.node}`;
      throw new WorldError(
        `"${argv.join(' ').slice(0, 200)}" failed in ${where} (exit ${r.code ?? `signal ${r.signal}`}): ${r.stderr.trim() || r.stdout.trim()}`,
      );
    }
    return r.stdout;
  }

  /** Starts a long-running process (a terminal's shell, a pause process, a container). */
  spawn(
    target: Target,
    argv: string[],
    opts: { env?: Record<string, string>; cwd?: string; stdin?: boolean; newUts?: boolean; newMount?: boolean } = {},
  ): WorldProcess {
    this.assertAlive();
    return this.init.spawn({
      ...this.placement(target),
      argv,
      env: opts.env ?? this.envFor(target),
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
      ...(opts.stdin ? { stdin: true } : {}),
      ...(opts.newUts ? { newUts: true } : {}),
      ...(opts.newMount ? { newMount: true } : {}),
    });
  }

  /** Inner PID → engine-side PID (world-init's, 1, is known from the start). */
  private readonly hostPids = new Map<number, number>();

  /**
   * The engine-side PID of a world process (world-init's PIDs are the world's own). Terminals need it:
   * node-pty starts `nsenter` from the engine's side. Found by NSpid in the world's PID namespace.
   */
  hostPid(innerPid: number): number {
    const known = this.hostPids.get(innerPid);
    if (known !== undefined) return known;
    const outer = this.init.outerPid;
    if (!outer) throw new WorldError('this world has no process');
    const pidNs = (pid: number | string) => readlinkSync(`/proc/${pid}/ns/pid`);
    const initHost = this.hostPids.get(1) ?? childrenOf(outer)[0];
    const entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
    if (!initHost) throw new WorldError('cannot find world-init among the processes');
    this.hostPids.set(1, initHost);
    if (innerPid === 1) return initHost;
    const ns = pidNs(initHost);
    for (const d of entries) {
      try {
        const m = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${d}/status`, 'utf8'));
        const ids = m?.[1]!.trim().split(/\s+/).map(Number);
        if (ids && ids.at(-1) === innerPid && ids.length > 1 && pidNs(d) === ns) {
          this.hostPids.set(innerPid, Number(d));
          return Number(d);
        }
      } catch {
        /* gone, or not ours to read */
      }
    }
    throw new WorldError(`no world process with PID ${innerPid}`);
  }

  /**
   * argv that enters a target from the engine's side (node-pty terminals, `podnet lab shell`): pty-exec
   * (terminal/native/pty-exec.c) sets the world's limits, enters the world's user and PID namespaces,
   * then the target's, and runs the command in a child: what `prlimit … nsenter … nsenter …` did, in one exec.
   */
  enterArgv(target: Target): string[] {
    // a terminal is not world-init's child: it takes the world's limits on its way in
    const limits = [
      ...(this.limits.processes ? ['--nproc', String(this.limits.processes)] : []),
      ...(this.limits.memoryBytes ? ['--as', String(this.limits.memoryBytes)] : []),
    ];
    // The world's PID namespace belongs to world-init's user namespace, so it is entered from there; then
    // the lab's nested user namespace and the target's namespaces. The credentials are kept (setgroups
    // is denied in the world's user namespaces, as for any unprivileged one).
    const base = [nativeBinary('pty-exec'), ...limits, '--world', String(this.hostPid(1))];
    // the sandbox keeps the host's UTS namespace, which only the host may enter
    if (target.kind === 'sandbox')
      return [...base, '--target', String(this.hostPid(this.confinedPid)), 'user,mnt,net', '--'];
    const holder = this.hostPid(this.node(target.node).holderPid);
    if (target.kind === 'node') return [...base, '--target', String(holder), 'user,mnt,uts,net', '--'];
    if (target.sandboxPid)
      return [...base, '--target', String(this.hostPid(target.sandboxPid)), 'user,mnt,uts,net', '--'];
    // the pin lives in the node's mounts: reach it through the holder's root
    return [
      ...base,
      '--target',
      String(holder),
      'user,mnt,uts',
      '--netns',
      `/proc/${holder}/root${target.netns}`,
      '--',
    ];
  }

  /**
   * How many tasks the world has now, as its limits count them: every thread in the world's PID namespace,
   * and what entered the world from outside it (unshare, each terminal's pty-exec: their children are born in it).
   */
  processCount(): number {
    const ns = readlinkSync(`/proc/${this.hostPid(1)}/ns/pid`);
    let n = 0;
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        // RLIMIT_NPROC and PIDs count threads: etcd's and the API server's count as much as processes
        if (readlinkSync(`/proc/${d}/ns/pid`) === ns || readlinkSync(`/proc/${d}/ns/pid_for_children`) === ns)
          n += readdirSync(`/proc/${d}/task`).length;
      } catch {
        /* gone, or not ours to read */
      }
    }
    return n;
  }

  /**
   * Whether the world is at its process limit (a fork bomb, or a lab that leaks processes): the count is within
   * 5 % of the limit, or within 10 % and one of the engine's requests failed with EAGAIN in the last few seconds.
   * A count alone misses a full world: it sheds what cannot start its threads (etcd, the API server) as it
   * fills; a refusal alone would outlive the processes that caused it.
   */
  atProcessLimit(): boolean {
    const limit = this.limits.processes;
    if (limit <= 0) return false;
    const count = this.processCount();
    if (count >= limit - Math.max(1, Math.floor(limit / 20))) return true;
    const hit = this.init.processLimitHitAt;
    return (
      hit !== undefined &&
      performance.now() - hit < PROCESS_LIMIT_MEMORY_MS &&
      count >= limit - Math.max(2, Math.floor(limit / 10))
    );
  }

  get alive(): boolean {
    return !this.destroyed && !this.init.isClosed;
  }

  /** PID of the world's outer process (unshare) in the engine's PID namespace. */
  get outerPid(): number | undefined {
    return this.init.outerPid;
  }

  private assertAlive(): void {
    if (!this.alive) throw new WorldError('this world has ended');
  }

  /**
   * What is wrong with a running world, for the status the UI shows: its own processes killed (a
   * `kill -9 -1` in a terminal ends the holders, and with them the nodes), or its disk full.
   */
  /**
   * What is wrong with a running world, if anything: its own processes killed (a kill -9 -1 from
   * inside), with the nodes that are gone, or its disk full.
   */
  trouble(): { message: string; goneNodes: string[] } | undefined {
    if (!this.alive) return undefined;
    const gone = this.holderPids.filter((p) => !this.stillRuns(p));
    if (gone.length) {
      const nodes = [...this.nodes.values()].filter((n) => gone.includes(n.holderPid)).map((n) => n.name);
      const message = `the lab world's own processes were killed (${nodes.length ? `nodes ${nodes.join(', ')} are gone` : 'its sandbox is gone'}; a kill -9 -1?): nothing works in it any more; Reset the world to start it afresh`;
      return { message, goneNodes: nodes };
    }
    if (this.diskFull())
      return {
        message: `the lab world's disk is full (${Math.round(this.limits.diskBytes / 1024 ** 2)} MiB): remove files in it, or reset the world`,
        goneNodes: [],
      };
    return undefined;
  }

  /** Whether the world's tmpfs has (almost) no room left. */
  diskFull(): boolean {
    if (!this.limits.diskBytes) return false;
    try {
      const s = statfsSync(this.stateDir);
      return Number(s.bavail) * Number(s.bsize) < 1024 ** 2;
    } catch {
      return false;
    }
  }

  /** Whether a world process (inner PID) still runs: its engine-side PID is there and is still that process. */
  private stillRuns(innerPid: number): boolean {
    const host = this.hostPids.get(innerPid);
    if (host === undefined) return true; // never looked up: nothing to say
    try {
      const m = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${host}/status`, 'utf8'));
      return Number(m?.[1]!.trim().split(/\s+/).at(-1)) === innerPid;
    } catch {
      return false;
    }
  }

  /** The engine's handle on world-init's root ("/" of the world): stateDir goes through it. */
  private rootFd = -1;
  /** The engine's handle on the world's state folder (/run/podnet): stateDir is its /proc/PID/fd path. */
  private stateFd = -1;

  /** Ends the world: every process, namespace, interface, mount and file of it (its tmpfs goes with it). */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    this.memory?.stop();
    await this.init.close();
    // the last reference to the world's tmpfs
    if (this.rootFd >= 0) closeSync(this.rootFd);
    if (this.stateFd >= 0) closeSync(this.stateFd);
    this.rootFd = -1;
    this.stateFd = -1;
  }
}

export function createWorld(opts: WorldOptions): Promise<World> {
  return World.create(opts);
}

export type { ExecResult, WorldLimits, WorldProcess };

/**
 * kubectl with the world's kubeconfig (unless the user names another), which the control plane writes
 * when it starts; and etcdctl on the control plane's etcd.
 */
function writeControlPlaneTools(tools: string, bin: string): void {
  const none =
    "kubectl: this world has no control plane (no API server runs in it): free-play worlds, labs whose lab.yaml has world.controlPlane: true and 'podnet cluster' have one, see docs/control-plane.md";
  // while the app starts the control plane in the background, kubectl waits for it (up to 30 s)
  const { starting, failed } = CONTROL_PLANE_MARKERS;
  writeFileSync(
    join(tools, 'kubectl'),
    [
      '#!/bin/sh',
      `if [ -z "$KUBECONFIG" ] && [ ! -e "$HOME/.kube/config" ]; then`,
      // the marker goes once the nodes are registered too: the kubeconfig alone comes a moment before
      `  if [ -e ${starting} ]; then`,
      `    echo 'kubectl: waiting for the control plane to start…' >&2`,
      `    i=0; while [ -e ${starting} ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done`,
      '  fi',
      `  [ -e ${KUBECONFIG_PATH} ] || [ ! -e ${failed} ] || { cat ${failed} >&2; exit 1; }`,
      `  [ -e ${KUBECONFIG_PATH} ] || { echo ${shq(none)} >&2; exit 1; }`,
      `  export KUBECONFIG=${KUBECONFIG_PATH}`,
      'fi',
      `exec ${shq(join(bin, 'kubectl'))} "$@"`,
      '',
    ].join('\n'),
    { mode: 0o755 },
  );
  writeFileSync(
    join(tools, 'etcdctl'),
    `#!/bin/sh\nexport ETCDCTL_API=3\n: "\${ETCDCTL_ENDPOINTS:=http://${CONTROL_PLANE.ip}:${CONTROL_PLANE.etcdPort}}"\nexport ETCDCTL_ENDPOINTS\nexec ${shq(join(bin, 'etcdctl'))} "$@"\n`,
    { mode: 0o755 },
  );
}

/** The kubeconfig kubectl finds in every node of a world whose control plane runs. */
export function worldKubeconfig(): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: podnet\n  cluster:\n    server: http://${CONTROL_PLANE.ip}:${CONTROL_PLANE.apiPort}`,
    'users:',
    '- name: admin\n  user: {}',
    'contexts:',
    '- name: podnet\n  context:\n    cluster: podnet\n    user: admin\n    namespace: default',
    'current-context: podnet',
    '',
  ].join('\n');
}
