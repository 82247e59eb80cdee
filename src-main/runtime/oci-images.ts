// The real containerd's two images, built here because no image can be pulled in a lab world: the
// sandbox image (the project's own pause, linked statically) and a busybox image (Debian's
// busybox-static) for the pods' containers. Each is an OCI image layout in a tar, as
// `ctr images import` takes it; the bytes are the same for the same inputs.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The references the images get (localhost: a name no registry serves, so nothing is ever pulled). */
export const SANDBOX_IMAGE = 'localhost/podnet/pause:lab';
export const BUSYBOX_IMAGE = 'localhost/podnet/busybox:lab';

/** busybox applets a lab's container runs (the image has no shell of its own but busybox's). */
const APPLETS = [
  'sh',
  'httpd',
  'sleep',
  'cat',
  'echo',
  'ls',
  'ip',
  'ping',
  'nc',
  'wget',
  'hostname',
  'true',
  'false',
  'env',
  'ps',
  'nslookup',
];

/** The OCI name of this machine's architecture (the images hold its binaries). */
export const OCI_ARCH =
  (
    { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<
      string,
      string
    >
  )[process.arch] ?? process.arch;

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** A tar of `dir` whose bytes depend only on the files' names, modes and contents. */
function reproducibleTar(dir: string, out: string, entries: string[]): void {
  execFileSync('tar', [
    '--sort=name',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
    '-C',
    dir,
    '-cf',
    out,
    ...entries,
  ]);
}

interface ImageInput {
  ref: string;
  /** Files of the image's one layer: path in the image → host file (mode 0755). */
  files: Record<string, string>;
  /** Symlinks of the layer: path → target. */
  links?: Record<string, string>;
  entrypoint?: string[];
  cmd?: string[];
}

/** An OCI image layout (oci-layout, index.json, blobs) in one tar, for `ctr images import`. */
export function ociArchive(img: ImageInput): Buffer {
  const work = mkdtempSync(join(tmpdir(), 'podnet-image-'));
  try {
    const rootfs = join(work, 'rootfs');
    for (const [path, src] of Object.entries(img.files)) {
      const dst = join(rootfs, path);
      mkdirSync(join(dst, '..'), { recursive: true });
      copyFileSync(src, dst);
      chmodSync(dst, 0o755);
    }
    for (const [path, target] of Object.entries(img.links ?? {})) {
      const dst = join(rootfs, path);
      mkdirSync(join(dst, '..'), { recursive: true });
      symlinkSync(target, dst);
    }
    const layerTar = join(work, 'layer.tar');
    reproducibleTar(rootfs, layerTar, ['.']);
    const layer = readFileSync(layerTar);
    const diffId = `sha256:${sha256(layer)}`;
    const config = Buffer.from(
      JSON.stringify({
        architecture: OCI_ARCH,
        os: 'linux',
        config: {
          Env: ['PATH=/bin'],
          ...(img.entrypoint ? { Entrypoint: img.entrypoint } : {}),
          ...(img.cmd ? { Cmd: img.cmd } : {}),
        },
        rootfs: { type: 'layers', diff_ids: [diffId] },
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: {
          mediaType: 'application/vnd.oci.image.config.v1+json',
          digest: `sha256:${sha256(config)}`,
          size: config.length,
        },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: diffId, size: layer.length }],
      }),
    );
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${sha256(manifest)}`,
          size: manifest.length,
          platform: { architecture: OCI_ARCH, os: 'linux' },
          annotations: {
            'io.containerd.image.name': img.ref,
            'org.opencontainers.image.ref.name': img.ref.split(':').pop(),
          },
        },
      ],
    };
    const layout = join(work, 'layout');
    const blobs = join(layout, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    for (const b of [layer, config, manifest]) writeFileSync(join(blobs, sha256(b)), b);
    writeFileSync(join(layout, 'index.json'), JSON.stringify(index));
    writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    const archive = join(work, 'image.tar');
    reproducibleTar(layout, archive, ['oci-layout', 'index.json', 'blobs']);
    return readFileSync(archive);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Archives already built in this process, by the image and its input file (its size and time). */
const built = new Map<string, Buffer>();

/** An image built once per input: every node of every world imports the same bytes. */
function once(img: ImageInput, input: string): Buffer {
  const st = statSync(input);
  const key = `${img.ref} ${input} ${st.size} ${st.mtimeMs}`;
  let archive = built.get(key);
  if (!archive) built.set(key, (archive = ociArchive(img)));
  return archive;
}

/** The sandbox image: the project's pause alone, as Kubernetes' pause image holds its own. */
export function sandboxImage(pauseStatic: string): Buffer {
  return once({ ref: SANDBOX_IMAGE, files: { pause: pauseStatic }, entrypoint: ['/pause'] }, pauseStatic);
}

/** The containers' image: busybox-static with the applets a lab's pods run. */
export function busyboxImage(busybox: string): Buffer {
  const links = Object.fromEntries(APPLETS.map((a) => [`bin/${a}`, 'busybox']));
  return once({ ref: BUSYBOX_IMAGE, files: { 'bin/busybox': busybox }, links, cmd: ['sh'] }, busybox);
}
