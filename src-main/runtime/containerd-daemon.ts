// The real containerd 2.1 on a node: its config (the rootless settings a user namespace needs), its
// own folders, the runc shim that drops devpts' gid=5, the recording shims in the node's plugin folder,
// the two local images, and the daemon itself — each step with its undo, as containerd's own code does.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { containerdBinDir, criApiProto, pauseStaticPath } from '../world/paths.js';
import { NODE_PATHS, WORLD_PATH, shq, type World, type WorldProcess } from '../world/world.js';
import type { LoopbackMode } from './containerd.js';
import { CriClient } from './cri-client.js';
import { OCI_ARCH, SANDBOX_IMAGE, busyboxImage, sandboxImage } from './oci-images.js';
import { recordPluginCalls } from './plugin-recorder.js';

/** Where containerd's files are on a node (a real node's paths). */
export const CONTAINERD_PATHS = {
  config: '/etc/containerd/config.toml',
  root: '/var/lib/containerd',
  state: '/run/containerd',
  socket: '/run/containerd/containerd.sock',
  /** The runtime binary containerd runs: the shim that fixes the spec, then runc. */
  runcShim: '/etc/containerd/podnet-runc',
} as const;

/** containerd's config for a node in an unprivileged user namespace (config version 3, containerd 2.x). */
export function containerdConfig(runcShim: string, arch: string, loopback: LoopbackMode = 'plugin'): string {
  return `# containerd 2.1 in a Podnet Lab node: an unprivileged user namespace, no image can be pulled.
version = 3
root = "${CONTAINERD_PATHS.root}"
state = "${CONTAINERD_PATHS.state}"
# no block devices, no NRI plugins, no tracing endpoint in a lab world
disabled_plugins = ["io.containerd.nri.v1.nri", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.blockfile", "io.containerd.snapshotter.v1.erofs", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "${CONTAINERD_PATHS.socket}"

[plugins."io.containerd.cri.v1.images"]
  # native: plain copies, which need no privilege (overlayfs would, on older kernels)
  snapshotter = "native"
  [plugins."io.containerd.cri.v1.images".pinned_images]
    # built by the lab from its own pause binary; nothing is pulled
    sandbox = "${SANDBOX_IMAGE}"

[plugins."io.containerd.transfer.v1.local"]
  # \`ctr images import\` unpacks through the transfer service: into the native snapshotter too
  [[plugins."io.containerd.transfer.v1.local".unpack_config]]
    platform = "linux/${arch}"
    snapshotter = "native"

[plugins."io.containerd.cri.v1.runtime"]
  # the rootless settings: a user namespace may not set AppArmor profiles, raise oom_score_adj or use hugetlb
  disable_apparmor = true
  restrict_oom_score_adj = true
  disable_hugetlb_controller = true
  # these set two sysctls through the container's /proc, which is read-only in a lab world
  enable_unprivileged_ports = false
  enable_unprivileged_icmp = false
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      snapshotter = "native"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        # a shim that removes devpts' gid=5 (a one-id user namespace has no group 5), then runs runc
        BinaryName = "${runcShim}"
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["${NODE_PATHS.binDir}"]
    conf_dir = "${NODE_PATHS.confDir}"
    max_conf_num = 1
    # containerd 2.x's default: the loopback plugin brings lo up (true: containerd does it itself)
    use_internal_loopback = ${loopback === 'internal'}
`;
}

/**
 * What the shim changes in a bundle's config.json before runc reads it, and why (each a limit of an
 * unprivileged user namespace, none a choice of containerd's):
 * - devpts' `gid=5`: containerd puts it in every spec (base_runtime_spec does not reach the sandbox's);
 *   one mapped id has no group 5, and runc fails with "invalid argument";
 * - `linux.cgroupsPath` and the resource limits: the world's cgroupfs is read-only; without a path and
 *   limits, runc (rootless in a user namespace) leaves cgroups alone instead of failing;
 * - `/proc` read-only: a lab world lets a new proc be mounted only like its one fully visible proc.
 */
export const BUNDLE_FIX_JS = [
  "const fs = require('fs'), f = process.argv[1], s = JSON.parse(fs.readFileSync(f, 'utf8'));",
  'for (const m of s.mounts || []) {',
  "  if (m.type === 'devpts') m.options = (m.options || []).filter((o) => o !== 'gid=5');",
  "  if (m.type === 'proc' && !(m.options || []).includes('ro')) m.options = [...(m.options || []), 'ro'];",
  '}',
  'if (s.linux) {',
  '  delete s.linux.cgroupsPath;',
  '  if (s.linux.resources) s.linux.resources = { devices: s.linux.resources.devices };',
  '}',
  'fs.writeFileSync(f, JSON.stringify(s));',
].join('\n');

/** The runtime binary containerd is given: on `create`, the bundle is fixed (BUNDLE_FIX_JS); then runc. */
export function runcShimScript(runc: string, node: string): string {
  return `#!/bin/sh
# Podnet Lab's runc shim: containerd's spec asks for what an unprivileged user namespace cannot give
# (devpts gid=5, cgroups, a writable new /proc); see docs/architecture.md, "The real containerd".
prev=
for a in "$@"; do
  if [ "$prev" = --bundle ] || [ "$prev" = -b ]; then
    ${shq(node)} -e ${shq(BUNDLE_FIX_JS)} "$a/config.json" || exit 1
  fi
  prev=$a
done
exec ${shq(runc)} "$@"
`;
}

export class ContainerdStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerdStartError';
  }
}

/** A running containerd on one node. */
export class ContainerdDaemon {
  /** containerd's log, line by line (its own text format). */
  readonly log: string[] = [];
  private readonly logWaiters = new Set<() => void>();
  version = '';

  private constructor(
    readonly world: World,
    readonly node: string,
    readonly process: WorldProcess,
    readonly cri: CriClient,
    /** The node's folder in the world's state (engine paths). */
    readonly folder: string,
  ) {}

  /** Log lines from index `from` on. */
  logSince(from: number): string[] {
    return this.log.slice(from);
  }

  /** Resolves once a log line from index `from` on matches, or after `timeoutMs` (false). */
  waitForLog(from: number, match: (line: string) => boolean, timeoutMs: number): Promise<boolean> {
    if (this.log.slice(from).some(match)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!this.log.slice(from).some(match)) return;
        done(true);
      };
      const done = (ok: boolean) => {
        clearTimeout(timer);
        this.logWaiters.delete(check);
        resolve(ok);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.logWaiters.add(check);
    });
  }

  /** The recording shims' folder (engine path). */
  get recordsDir(): string {
    return join(this.folder, 'cni-calls');
  }

  /** Starts containerd on `node`: folders, config, shims, daemon, images. */
  static async start(world: World, node: string, opts: { loopback?: LoopbackMode } = {}): Promise<ContainerdDaemon> {
    const n = world.node(node);
    const bin = containerdBinDir();
    const proto = criApiProto();
    if (!bin || !proto)
      throw new ContainerdStartError(
        'the real containerd is not set up on this machine: run "node scripts/pinned.mjs" (it takes containerd 2.1.9 and runc from Debian\'s archive)',
      );
    const folder = join(world.stateDir, 'nodes', node);
    for (const d of ['etc/containerd', 'var/lib/containerd', 'run/containerd'])
      mkdirSync(join(folder, d), { recursive: true });
    writeFileSync(
      join(folder, 'etc/containerd/config.toml'),
      containerdConfig(CONTAINERD_PATHS.runcShim, OCI_ARCH, opts.loopback),
    );
    writeFileSync(join(folder, 'etc/containerd/podnet-runc'), runcShimScript(join(bin, 'runc'), process.execPath), {
      mode: 0o755,
    });
    // the node's folders over a real node's paths, in the node's own mounts; base: the holder's cwd (its folder)
    const base = `/proc/${n.holderPid}/cwd`;
    const binds = [
      ['etc/containerd', '/etc/containerd'],
      ['var/lib/containerd', CONTAINERD_PATHS.root],
      ['run/containerd', CONTAINERD_PATHS.state],
    ];
    await world.run({ kind: 'node', node }, [
      'sh',
      '-ec',
      [...binds.flatMap(([from, to]) => [`mkdir -p ${to}`, `mount --bind ${base}/${from} ${to}`])].join('\n'),
    ]);
    // containerd's log does not show its plugin calls: a recording shim for each real plugin does
    await recordPluginCalls(world, node);
    const p = world.spawn({ kind: 'node', node }, [join(bin, 'containerd'), '--config', CONTAINERD_PATHS.config], {
      env: world.baseEnv({ PATH: `${bin}:${WORLD_PATH}`, PODNET_NODE: node }),
    });
    const socket = join(folder, 'run/containerd/containerd.sock');
    const cri = new CriClient(proto, socket);
    const d = new ContainerdDaemon(world, node, p, cri, folder);
    let partial = '';
    const onData = (b: Buffer) => {
      const lines = (partial + b.toString()).split('\n');
      partial = lines.pop()!;
      d.log.push(...lines.filter(Boolean));
      for (const w of d.logWaiters) w();
    };
    p.on('stdout', onData);
    p.on('stderr', onData);
    try {
      await d.waitReady();
      await d.importImages();
    } catch (e) {
      await d.stop();
      throw e;
    }
    return d;
  }

  /** Waits for the socket and the CRI's Version answer (about 100–250 ms after start). */
  private async waitReady(timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < until) {
      if (this.process.hasExited)
        throw new ContainerdStartError(
          `containerd on ${this.node} exited at start: ${this.log.slice(-5).join('\n') || 'no output'}`,
        );
      if (existsSync(this.cri.socket)) {
        try {
          const v = await this.cri.call<{ runtimeVersion: string }>('Version', {}, 2000);
          this.version = v.runtimeVersion;
          return;
        } catch (e) {
          last = (e as Error).message;
        }
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new ContainerdStartError(
      `containerd on ${this.node} did not answer on its socket in ${timeoutMs} ms: ${last}`,
    );
  }

  /** The sandbox and busybox images, imported into the k8s.io namespace (the CRI's). */
  private async importImages(): Promise<void> {
    const pause = pauseStaticPath();
    const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((b) => existsSync(b));
    if (!pause || !busybox)
      throw new ContainerdStartError(
        `cannot build the images: ${pause ? '' : 'out/native/pause-static is missing (npm run build) '}${busybox ? '' : 'busybox-static is missing'}`,
      );
    const ctr = join(containerdBinDir()!, 'ctr');
    for (const archive of [sandboxImage(pause), busyboxImage(busybox)]) {
      const r = await this.world.exec(
        { kind: 'node', node: this.node },
        [
          ctr,
          '--address',
          CONTAINERD_PATHS.socket,
          '-n',
          'k8s.io',
          'images',
          'import',
          '--snapshotter',
          'native',
          '--platform',
          `linux/${OCI_ARCH}`,
          '-',
        ],
        { input: archive, timeoutMs: 30_000 },
      );
      if (r.code !== 0) throw new ContainerdStartError(`ctr images import on ${this.node} failed: ${r.stderr.trim()}`);
    }
  }

  /** Ends containerd (SIGTERM, then SIGKILL): its shims and pods end with the world, or with StopPodSandbox. */
  async stop(): Promise<void> {
    this.cri.close();
    if (this.process.hasExited) return;
    this.process.kill(15);
    const t = setTimeout(() => this.process.kill(9), 3000);
    await this.process.exited;
    clearTimeout(t);
  }
}
