// podnet workshop image: the seat server as a container image, built here from Debian's packages only (the
// bundled VM's root without its kernel: src-main/vm/image.ts) and the app's build, then imported with
// `podman import`. Nothing is pulled from a container registry.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { appRoot } from '../world/paths.js';
import { MOUNTPOINTS } from '../world/world.js';
import { GUEST_APP_DIR } from '../vm/guest-init.js';
import { GUEST_PACKAGES, hostArch } from '../vm/guest-spec.js';
import { appParts, debName, debianRoot, VmBuildError } from '../vm/image.js';

/** The image's name in the local store (podman's `localhost/` prefix is added by podman). */
export const IMAGE_NAME = 'podnet-workshop';
/** The port the seat server listens on inside the container. */
export const CONTAINER_PORT = 8080;
export const IMAGE_FILES = { tar: 'podnet-workshop.tar', manifest: 'image.json' } as const;

/**
 * The VM guest's packages, and the GNU tools a Debian node has where the guest makes do with busybox's applets:
 * the labs and the engine's own scripts are written against them (busybox's applets differ: its readlink takes
 * one file only, which once kept netview from seeing `ip monitor` subscribe), and tini to reap as PID 1.
 */
export const CONTAINER_PACKAGES = [
  ...GUEST_PACKAGES,
  'coreutils',
  'grep',
  'sed',
  'findutils',
  'procps',
  'mawk',
  'tini',
];

export const containerOutDir = (): string => join(appRoot(), 'out', 'workshop-image');

export interface ContainerImageManifest {
  tag: string;
  /** podman's image ID, when it was imported */
  imageId?: string;
  nodeVersion: string;
  builtAt: string;
  /** bytes: the root's tar (what `podman import` or a registry push takes) */
  sizes: { tar: number };
  packages: string[];
}

export interface ContainerBuildOptions {
  out?: string;
  /** import the tar into podman's store (default true) */
  import?: boolean;
  log?: (s: string) => void;
}

/**
 * The image's command: `podnet workshop` on every address of the container, on CONTAINER_PORT, under tini:
 * a terminal's shell is orphaned into the container when its launcher exits, and a world's PID namespace
 * cannot end until each of its processes is reaped; node as PID 1 reaps none, so a world's stop would hang.
 */
export const ENTRYPOINT = ['/usr/bin/tini', '--', '/usr/bin/node', `${GUEST_APP_DIR}/bin/podnet.mjs`, 'workshop'];
export const DEFAULT_CMD = ['--host', '0.0.0.0', '--port', String(CONTAINER_PORT)];

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error)
    throw new VmBuildError(
      `${cmd} could not start (${r.error.message}): ${cmd === 'podman' ? 'run scripts/podman-host-packages.sh' : `install ${cmd}`}`,
    );
  if (r.status !== 0)
    throw new VmBuildError(`${cmd} ${args.slice(0, 2).join(' ')} … failed (status ${r.status}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Builds OUT/podnet-workshop.tar (and image.json) and imports it into podman; returns the manifest. */
export async function buildContainerImage(opts: ContainerBuildOptions = {}): Promise<ContainerImageManifest> {
  const log = opts.log ?? (() => {});
  const outDir = resolve(opts.out ?? containerOutDir());
  const work = join(outDir, '.work');
  const root = join(work, 'root');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  try {
    const arch = hostArch();
    const { debs } = await debianRoot(root, arch, CONTAINER_PACKAGES, log, join(containerOutDir(), 'cache'));
    appParts(root, arch, log);
    // the VM's names: the container runtime gives its own hostname and hosts file
    writeFileSync(join(root, 'etc/hostname'), 'podnet-workshop\n');
    // a world overlays /etc only for a mount point /etc lacks, and no overlay can sit on the container's own
    // overlay root (EINVAL): the image has them all
    for (const p of MOUNTPOINTS.filter((m) => m.startsWith('/etc/'))) mkdirSync(join(root, p), { recursive: true });
    const tar = join(work, IMAGE_FILES.tar);
    log('packing the root into a tar (every file owned by root: the container maps it into its user namespace)');
    run('tar', ['-C', root, '--sort=name', '--numeric-owner', '--owner=0', '--group=0', '-cf', tar, '.']);
    mkdirSync(outDir, { recursive: true });
    renameSync(tar, join(outDir, IMAGE_FILES.tar));
    const nodeVersion = /^nodejs (\S+)/m.exec(debs.map(debName).join('\n'))?.[1] ?? '?';
    const version = (JSON.parse(readFileSync(join(appRoot(), 'package.json'), 'utf8')) as { version: string }).version;
    const tag = `localhost/${IMAGE_NAME}:${version}-${Date.now().toString(36)}`;
    const manifest: ContainerImageManifest = {
      tag,
      nodeVersion,
      builtAt: new Date().toISOString(),
      sizes: { tar: statSync(join(outDir, IMAGE_FILES.tar)).size },
      packages: debs.map(debName).sort(),
    };
    if (opts.import !== false) {
      log(`importing it into podman as ${tag}`);
      manifest.imageId = importImage(join(outDir, IMAGE_FILES.tar), tag);
    }
    writeFileSync(join(outDir, IMAGE_FILES.manifest), JSON.stringify(manifest, null, 2) + '\n');
    return manifest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** `podman import` of the root's tar with the image's entry point; the new image's ID. */
export function importImage(tar: string, tag: string): string {
  const changes = [
    `ENTRYPOINT ${JSON.stringify(ENTRYPOINT)}`,
    `CMD ${JSON.stringify(DEFAULT_CMD)}`,
    `EXPOSE ${CONTAINER_PORT}/tcp`,
    `WORKDIR ${GUEST_APP_DIR}`,
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  ];
  const id = run('podman', ['import', '--quiet', ...changes.flatMap((c) => ['--change', c]), tar, tag]).trim();
  if (!/^(sha256:)?[0-9a-f]{64}$/.test(id)) throw new VmBuildError(`podman import answered no image ID: "${id}"`);
  return id.replace(/^sha256:/, '');
}

/** podman's size of an image, in bytes. */
export function imageSize(id: string): number {
  return Number(run('podman', ['image', 'inspect', '--format', '{{.Size}}', id]).trim());
}

/** The seccomp profile the seat server runs under (podman's default plus sethostname): scripts/workshop-seccomp.mjs. */
export const seccompProfile = (): string => join(appRoot(), 'deploy', 'k8s', 'podnet-workshop-seccomp.json');
/** Paths the runtime masks that a world's own proc and sysfs need visible (docs/workshop.md says why). */
export const UNMASKED = ['/proc/*', '/sys/firmware', '/sys/dev/block'];
/** The user the seat server runs as inside: nobody, as on a host (root without capabilities cannot map itself). */
export const CONTAINER_USER = '65534:65534';

/**
 * `podman run` options for a seat server: no privilege, no capability, a user namespace of its own (podman's
 * closest to Kubernetes' hostUsers: false), user-mode networking with the port on the host's loopback only.
 */
export function podmanRunOptions(hostPort: number, extra: string[] = []): string[] {
  return [
    ...['--userns=auto:size=65536', '--user', CONTAINER_USER, '--cap-drop=ALL'],
    ...['--security-opt', 'no-new-privileges', '--security-opt', `seccomp=${seccompProfile()}`],
    ...['--security-opt', `unmask=${UNMASKED.join(':')}`],
    ...['--network', 'slirp4netns', '-p', `127.0.0.1:${hostPort}:${hostPort}`],
    ...extra,
  ];
}
