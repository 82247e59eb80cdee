// The lab world's view of the host: read-only, without the user's home, SSH keys or the app's data,
// with only the lab's own folder writable, and no way out onto the host's network. Run as root (where
// the world's root is the host's root, so only the confinement stands between a lab and the host)
// and as an unprivileged user.
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lastJsonOf } from './helpers.js';
import { hostSnapshot } from '../src-main/runtime/leaks.js';

const CHILD = join(import.meta.dirname, 'fixtures/world-child.mjs');
const NOBODY = 65534;
const hostIp =
  Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address ?? '198.51.100.1';
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A home with an SSH key and a lab folder, owned by `uid`. */
function fixture(uid: number) {
  const home = mkdtempSync(join(tmpdir(), 'podnet-home-'));
  made.push(home);
  mkdirSync(join(home, '.ssh'), { mode: 0o700 });
  writeFileSync(join(home, '.ssh/id_podnet_test'), 'SECRET-KEY-MATERIAL\n', { mode: 0o600 });
  const work = join(home, 'labs/lab-1');
  mkdirSync(work, { recursive: true });
  for (const p of [home, join(home, '.ssh'), join(home, '.ssh/id_podnet_test'), join(home, 'labs'), work])
    chownSync(p, uid, uid);
  return { home, work };
}

function probe(asNobody: boolean) {
  const { home, work } = fixture(asNobody ? NOBODY : 0);
  const before = hostSnapshot('world-');
  const env = ['env', '-i', `PATH=${process.env.PATH}`, `HOME=${home}`];
  const argv = [...env, process.execPath, CHILD, 'confine', home, work, hostIp];
  const done = lastJsonOf<{ results: Record<string, { out: string; err: string }> }>(argv, asNobody);
  return { home, work, before, after: hostSnapshot('world-'), results: done.results };
}

describe.each([
  ['as root', false],
  ['as an unprivileged user (nobody)', true],
])('a lab world, %s', (_name, asNobody) => {
  it('cannot write the home folder, read ~/.ssh, write /etc or reach a host address; only its own folder is writable; the host is unchanged', () => {
    const { home, work, before, after, results } = probe(asNobody);
    for (const where of ['sandbox', 'node'] as const) {
      const { out, err } = results[where]!;
      // the world sees an empty home (only the lab's folder, mounted through it), never the user's files
      expect(out, where).toMatch(/home-in-world: /);
      expect(out, where).not.toMatch(/home-in-world: .*\.ssh/);
      expect(out, where).toContain('ssh-read-refused');
      expect(err, where).toMatch(/id_podnet_test: No such file or directory/);
      expect(out, where).not.toContain('SECRET-KEY-MATERIAL');
      expect(out, where).toContain('etc-write-refused');
      expect(err, where).toMatch(/Read-only file system/);
      expect(out, where).toContain('work-write-ok');
      // no uplink: a host address is unreachable (on this VM the host's own network is the underlay's
      // documentation range, so the ping is answered by no one instead of refused by routing)
      expect(out, where).toContain('host-unreachable');
      expect(out, where).toContain('netlink-in-world-ok');
      expect(out, where).toContain('app-visible');
      expect(out, where).toContain('app-write-refused');
    }
    expect(existsSync(join(home, 'podnet-probe'))).toBe(false);
    expect(existsSync('/etc/podnet-probe')).toBe(false);
    expect(readFileSync(join(work, 'from-world'), 'utf8')).toBe('from-the-lab\n');
    expect(after.links).toEqual(before.links);
    expect(after.netns).toEqual(before.netns);
  });
});
