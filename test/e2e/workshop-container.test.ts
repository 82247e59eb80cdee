// The workshop room from its container image, run by the real podman as a stand-in for a Kubernetes node:
// the flow of test/e2e/workshop-flow.ts in Chromium against the container's published port, and what the
// container was given (no privilege, no capability, its own user namespace, user-mode networking) with the
// host's own network left as it was. Needs root (rootful podman) and the image's tar: npm run test:workshop-image.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  containerOutDir,
  IMAGE_FILES,
  importImage,
  podmanRunOptions,
  seccompProfile,
} from '../../src-main/workshop/container-image.js';
import { freePort } from '../../src-main/vm/qemu.js';
import { workshopFlow } from './workshop-flow.js';

/**
 * This machine's own limits, not the image's needs: its root lacks CAP_SYS_RESOURCE, so podman's default
 * rlimits (above the host's hard limits) are refused, and its cgroups are a v1/v2 hybrid crun refuses (runc runs).
 */
export const THIS_MACHINE = ['--ulimit', 'nofile=20000:20000', '--ulimit', 'nproc=32768:32768'];
const PODMAN = ['--runtime', 'runc'];

/**
 * podman's mounts — each container's netns pin in /run/netns, its root, its shm — made in a mount namespace of
 * the test's own, with a tmpfs of its own on /run/netns: none of them reaches the host's mount table or its
 * named netns, whatever podman's clean-up does (a pin stranded under the host's /run/netns cannot even be
 * deleted), and they go with the namespace's last process. Its holder reads a pipe from this process and
 * ends when this process does, killed or not.
 */
let holder: ChildProcess | undefined;
async function startMountHolder(): Promise<void> {
  const h = spawn(
    'unshare',
    [
      ...['--mount', '--propagation', 'private', '--', 'sh', '-ec'],
      'mkdir -p /run/netns; mount -t tmpfs -o mode=0755,size=1m podnet-test-netns /run/netns; echo ready; exec cat >/dev/null',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  holder = h;
  await new Promise<void>((resolve, reject) => {
    h.once('error', reject);
    h.once('exit', (code) => reject(new Error(`the mount namespace's holder ended (${code}) before it was ready`)));
    h.stdout.once('data', () => resolve());
  });
}
function stopMountHolder(): void {
  holder?.stdin?.end(); // its cat sees the end and exits: the holder's own PID, nothing else
  holder = undefined;
}

const podman = (args: string[]) =>
  execFileSync('nsenter', [`--mount=/proc/${holder!.pid}/ns/mnt`, '--', 'podman', ...PODMAN, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();

/** The host's own links, routes and firewall rules (counters and link statistics left out). */
function hostNetwork(): string {
  const sh = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      return `${cmd} failed: ${(e as Error).message}`;
    }
  };
  return [
    sh('ip', ['netns', 'list']),
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => l.split(' ')[4]?.startsWith('/run/netns'))
      .map((l) => l.split(' ').slice(3, 5).join(' '))
      .join('\n'),
    sh('ip', ['-o', 'link', 'show']).replace(/ qlen \d+/g, ''),
    sh('ip', ['-o', 'address', 'show']).replace(/valid_lft \S+ preferred_lft \S+/g, ''),
    sh('ip', ['route', 'show', 'table', 'all']),
    sh('ip', ['-6', 'route', 'show', 'table', 'all']),
    sh('nft', ['list', 'ruleset']),
    sh('iptables-save', [])
      .replace(/^#.*$/gm, '')
      .replace(/\[\d+:\d+\]/g, ''),
  ].join('\n----\n');
}

const tar = join(containerOutDir(), IMAGE_FILES.tar);
let container = '';
let image = '';
let port = 0;
let networkBefore = '';

workshopFlow(
  'a workshop room in the container image, under podman without privilege',
  async () => {
    if (process.getuid?.() !== 0)
      throw new Error(
        'this test runs podman as root (the container still gets a user namespace of its own): run it as root',
      );
    if (!existsSync(tar)) throw new Error(`${tar} is missing: run "node bin/podnet.mjs workshop image --no-import"`);
    networkBefore = hostNetwork();
    await startMountHolder();
    image = importImage(tar, `localhost/podnet-workshop:test-${Date.now().toString(36)}`);
    port = await freePort();
    let logs = '';
    try {
      container = podman([
        'run',
        '-d',
        ...podmanRunOptions(port, THIS_MACHINE),
        image,
        ...['--host', '0.0.0.0', '--port', String(port), '--seats', '4', '--idle-minutes', '60'],
      ]);
      // the server prints its two lines with its own address in the container: the room is reached at the published port
      const t0 = Date.now();
      while (!/^instructor: /m.test(logs)) {
        if (Date.now() - t0 > 60_000) throw new Error(`the container printed no instructor line in 60 s:\n${logs}`);
        if (podman(['inspect', '--format', '{{.State.Running}}', container]) !== 'true')
          throw new Error(`the container ended:\n${podman(['logs', container])}`);
        await new Promise((r) => setTimeout(r, 300));
        logs = podman(['logs', container]);
      }
    } catch (e) {
      // a start that failed leaves nothing either: the flow's close is never handed out
      await removeAll().catch(() => {});
      throw e;
    }
    const local = (line: string) => {
      const u = new URL(new RegExp(`^${line}: (\\S+)$`, 'm').exec(logs)![1]!);
      expect(u.port).toBe(String(port));
      u.hostname = '127.0.0.1';
      return u.href;
    };
    return {
      joinUrl: local('join'),
      instructorUrl: local('instructor'),
      close: async () => {
        const [ps, images] = await removeAll();
        expect(ps).not.toContain(container);
        expect(images).not.toContain(image);
        // no netns, pin or mount of podman's is left on the host
        expect(hostNetwork()).toBe(networkBefore);
      },
    };
  },
  'workshop-container',
);

/**
 * Everything made, removed by its ID: the container (its worlds end with it), then the image (podman may find
 * the container's shm mount still busy just after its processes end: once more), then the mount namespace.
 * Answers what podman lists afterwards: its containers and its images.
 */
async function removeAll(): Promise<[string, string]> {
  try {
    if (container)
      try {
        podman(['rm', '--force', '--time', '10', container]);
      } catch {
        await new Promise((r) => setTimeout(r, 2000));
        podman(['rm', '--force', container]);
      }
    if (image) podman(['rmi', image]);
    return [podman(['ps', '--all', '--quiet', '--no-trunc']), podman(['images', '--quiet', '--no-trunc'])];
  } finally {
    stopMountHolder();
  }
}

describe('the seat server’s container', () => {
  it('has no privilege, no capability and a user namespace of its own; its worlds are nobody’s on the host', () => {
    const c = JSON.parse(podman(['inspect', container])) as [
      {
        HostConfig: { Privileged: boolean; CapAdd: string[] | null; SecurityOpt: string[] };
        EffectiveCaps: string[] | null;
        Config: { User: string };
      },
    ];
    const h = c[0].HostConfig;
    expect(h.Privileged).toBe(false);
    expect(h.CapAdd ?? []).toEqual([]);
    expect(c[0].EffectiveCaps ?? []).toEqual([]);
    expect(c[0].Config.User).toBe('65534:65534');
    expect(h.SecurityOpt.join(' ')).toContain('no-new-privileges');
    expect(h.SecurityOpt).toContain(`seccomp=${seccompProfile()}`);
    // unmasked (UNMASKED): nothing mounted over /proc's files or /sys/firmware, so a world may mount its own
    const mounts = podman(['exec', container, 'cat', '/proc/self/mountinfo'])
      .split('\n')
      .map((l) => l.split(' ')[4]);
    expect(mounts).toContain('/proc');
    expect(mounts.filter((m) => m?.startsWith('/proc/'))).toEqual([]);
    expect(mounts).not.toContain('/sys/firmware');
    // a user namespace of its own: the container's root is a high host ID, never the host's 0
    const [inside, outside, count] = podman(['exec', container, 'cat', '/proc/self/uid_map']).trim().split(/\s+/);
    expect([inside, count]).toEqual(['0', '65536']);
    expect(Number(outside)).toBeGreaterThan(65535);
    // every process of the container — tini, the server, the seats' worlds, their shells — is the container's
    // nobody on the host (a world's root is root only in the world's own user namespace, nested in it)
    // (no command lines: a script's has newlines in it)
    const procs = podman(['top', container, 'huser', 'state', 'pid']).split('\n').slice(1);
    expect(procs.length).toBeGreaterThan(5);
    for (const p of procs) {
      const [huser, state] = p.trim().split(/\s+/);
      // a process that has just exited and is not yet reaped (a zombie) has no user left to show
      if (state === 'Z') continue;
      expect(Number(huser), p).toBe(Number(outside) + 65534);
    }
  });

  it('publishes the port on the host’s loopback only, and left the host’s links, routes and firewall as they were', () => {
    const ports = podman(['port', container]);
    expect(ports).toBe(`${port}/tcp -> 127.0.0.1:${port}`);
    expect(hostNetwork()).toBe(networkBefore);
  });
});
