// Escapes from a lab world, tried the ways a lab can: its prepare, a script check, the world's exec in
// the sandbox, a node and a pod, and terminals on a node and in a pod; as root (the world's root is
// the host's) and as an unprivileged user. None may reach the host's files, its kernel settings or
// world-init; the world's disk is bounded; a world whose processes were killed says so.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const CHILD = join(import.meta.dirname, '../fixtures/escape-child.mjs');
const NOBODY = 65534;
const made: string[] = [];
const corePattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8');
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
  // an old world could write it: never leave the host changed
  if (readFileSync('/proc/sys/kernel/core_pattern', 'utf8') !== corePattern)
    writeFileSync('/proc/sys/kernel/core_pattern', corePattern);
  rmSync('/usr/.podnet-escape-probe', { force: true });
});

const ATTACKS = [
  'shadow-via-proc1',
  'ssh-key-via-proc1',
  'home-write-via-proc1',
  'host-run-via-proc1',
  'nsenter-1-mount',
  'nsenter-1-all',
  'umount-shadow',
  'shadow-readable',
  'umount-etc',
  'remount-root-rw',
  'remount-usr-rw',
  'remount-proc-rw',
  'remount-proc-sys-rw',
  'write-usr',
  'core-pattern-write',
  'kcore-visible',
  'keys-visible',
  'timer-list-visible',
  'sched-debug-visible',
  'acpi-visible',
  'scsi-visible',
  'firmware-visible',
  'sysrq-writable',
  'proc-irq-writable',
  'host-block-devices',
  'pidfd-getfd-init',
  'fresh-proc-rw',
  'fresh-proc-core-pattern',
  'fresh-sysfs-rw',
  'uncover-spare-kernel-views',
];

interface Report {
  results: Record<string, string>;
  error?: string;
  frames?: string;
  engineAlive?: string;
  dd?: string;
  hostFreeDropMiB?: number;
  statusDiskFull?: string;
  statusAfterKill?: { state: string; error: string; ready: string[] };
  bashrc: string;
}

function run(asNobody: boolean): { report: Report; stderr: string; status: number | null } {
  const uid = asNobody ? NOBODY : 0;
  const home = mkdtempSync(join(tmpdir(), 'podnet-escape-home-'));
  made.push(home);
  mkdirSync(join(home, '.ssh'), { mode: 0o700 });
  writeFileSync(join(home, '.ssh/id_podnet_test'), 'SECRET-KEY-MATERIAL\n', { mode: 0o600 });
  writeFileSync(join(home, '.bashrc'), '# the user\n');
  const labs = join(home, 'labs');
  const progress = join(home, 'progress');
  mkdirSync(labs);
  mkdirSync(progress);
  for (const p of [home, join(home, '.ssh'), join(home, '.ssh/id_podnet_test'), join(home, '.bashrc'), labs, progress])
    chownSync(p, uid, uid);
  const argv = ['env', '-i', `PATH=${process.env.PATH}`, `HOME=${home}`, process.execPath, CHILD, home, labs, progress];
  const r = asNobody
    ? spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', ...argv], {
        encoding: 'utf8',
        timeout: 170_000,
      })
    : spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 170_000 });
  // the last report the child printed (a partial one if the engine died on the way)
  let report: Report = { results: {}, bashrc: readFileSync(join(home, '.bashrc'), 'utf8') };
  for (const line of r.stdout.trim().split('\n')) {
    try {
      report = (JSON.parse(line) as { report: Report }).report;
    } catch {
      /* not a report */
    }
  }
  return { report, stderr: r.stderr, status: r.status };
}

describe.each([
  ['as root', false],
  ['as an unprivileged user (nobody)', true],
])('a lab world, %s', (_name, asNobody) => {
  const { report, stderr, status } = run(asNobody);

  it('the engine survives every attack (a forged frame from inside the world included)', () => {
    expect(status, stderr.slice(-2000)).toBe(0);
    expect(report.error, report.error).toBeUndefined();
    expect(report.engineAlive).toBe('alive');
  });

  it.each(['prepare', 'check', 'exec-sandbox', 'exec-node', 'exec-pod', 'terminal-node', 'terminal-pod'])(
    'no escape from %s',
    (where) => {
      // terminal output: without the terminal's escape sequences and carriage returns
      // eslint-disable-next-line no-control-regex
      const out = (report.results[where] ?? '').replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '').replace(/\r/g, '');
      const leaks = [...out.matchAll(/^LEAK (\S+)/gm)].map((m) => m[1]);
      expect(leaks, `${where}:\n${out}`).toEqual([]);
      // every attack ran (a probe that did not run proves nothing); a check's output is short, so it counts them
      if (where === 'check') return expect(out).toContain(`oks=${ATTACKS.length}`);
      for (const a of ATTACKS) expect(out, `${where} ran ${a}`).toMatch(new RegExp(`^ok ${a}$`, 'm'));
    },
  );

  it("leaves the host's files and kernel settings as they were", () => {
    expect(report.bashrc).toBe('# the user\n');
    expect(readFileSync('/proc/sys/kernel/core_pattern', 'utf8')).toBe(corePattern);
    expect(existsSync('/usr/.podnet-escape-probe')).toBe(false);
  });

  it("bounds the world's disk: 600 MiB into a node's config folder stops at the bound, on no host disk, and the status says so", () => {
    expect(report.dd).toMatch(/No space left on device/);
    expect(report.dd).not.toMatch(/rc=0/);
    expect(report.hostFreeDropMiB!).toBeLessThan(50);
    expect(report.statusDiskFull).toMatch(/the lab world's disk is full \(512 MiB\)/);
  });

  it("says when the world's processes were killed (kill -9 -1 in a terminal) and offers a reset", () => {
    expect(report.statusAfterKill?.error).toMatch(/processes were killed.*[Rr]eset/s);
    // and no node of it says Ready (the status bar's pills)
    expect(report.statusAfterKill?.ready.filter((r) => r.endsWith(':true'))).toEqual([]);
  });
});
