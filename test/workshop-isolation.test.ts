// Isolation between the seats of one workshop room (issue 19): all seats' worlds run as the same host
// user, yet seat A can neither see nor reach seat B's world, processes, files, progress or addresses,
// and A's fork bomb, memory hog and disk filler stop at A's bounds while B goes on. As root and as nobody.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnAsNobody } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');
const PROBE = join(ROOT, 'out/test-fixtures/fork-probe');
const CHILD = join(import.meta.dirname, 'fixtures/workshop-isolation-child.mjs');
const NOBODY = ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--'];
const started = new Set<ChildProcess>();

beforeAll(() => {
  mkdirSync(join(ROOT, 'out/test-fixtures'), { recursive: true });
  execFileSync('cc', ['-O2', '-Wall', '-o', PROBE, join(import.meta.dirname, 'fixtures/fork-probe.c')]);
});
afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

const forked = (line: string) => {
  const m = /^forked (\d+) errno (\d+)$/.exec(line.trim());
  if (!m) throw new Error(`unexpected probe output: ${line}`);
  return { ok: Number(m[1]), errno: Number(m[2]) };
};

describe('the kernel claim: RLIMIT_NPROC is counted per user namespace, not per host user', () => {
  it('one namespace of nobody at its limit leaves a sibling namespace of nobody its whole limit', async () => {
    const ns = ['unshare', '--user', '--map-root-user', '--pid', '--fork', '--mount-proc', PROBE, '30', '100'];
    const held = spawn('setpriv', [...NOBODY, ...ns, 'hold'], { stdio: ['pipe', 'pipe', 'inherit'] });
    started.add(held);
    const line = await new Promise<string>((res) => held.stdout.once('data', (d: Buffer) => res(d.toString())));
    expect(forked(line)).toEqual({ ok: 28, errno: 11 });
    // counted per host user, the sibling would get nothing: it gets its own 28 (unshare and the probe count too)
    const sibling = spawnSync('setpriv', [...NOBODY, ...ns], { encoding: 'utf8' });
    expect(forked(sibling.stdout)).toEqual({ ok: 28, errno: 11 });
    held.stdin.end();
    await new Promise((r) => held.once('exit', r));
  });
});

function attack(asNobody: boolean): Record<string, unknown> {
  const argv = [process.execPath, CHILD, PROBE];
  const r = asNobody
    ? spawnAsNobody(argv, 240_000)
    : spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 240_000 });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  let report: Record<string, unknown>;
  try {
    report = JSON.parse(line);
  } catch {
    throw new Error(`the attack child printed no report (exit ${r.status}): ${r.stdout}\n${r.stderr}`);
  }
  expect(report.error, String(report.error)).toBeUndefined();
  return report;
}

describe.each([
  ['root', false],
  ['nobody', true],
])('two seats of one room, as %s', (who, asNobody) => {
  it('seat A cannot see or reach seat B, and A’s fork bomb, memory hog and disk filler stop at A', () => {
    const r = attack(asNobody);
    expect(r.uid).toBe(asNobody ? 65534 : 0);
    // B sees its own: the check below is not vacuous
    expect(r.bSeesOwn).toMatch(/^B-SECRET-\d+\nB-SECRET$/);
    expect(r.bScan).toMatch(/^\/proc\/\d+\/cmdline\nend/);
    // processes: B's marked process is not among A's
    expect(r.aScan).toBe('end');
    // links and namespaces: B's veth is in no namespace of A's
    expect(String(r.aLinks) + String(r.aSandboxLinks)).not.toMatch(/wsb-|wsc-/);
    // files: B's secret is in no root A can reach, /proc/*/root included
    expect(r.aFile).not.toMatch(/B-SECRET/);
    // progress: the room's state folder (B's progress) is not in A's world at all
    expect(r.aProgress).toMatch(/No such file or directory/);
    expect(r.aProgress).not.toMatch(/progress\n|\.json/);
    // traffic: B's address is unreachable from A; B's node address is A's own node's (no listener there)
    expect(r.aNet).not.toMatch(/B-SECRET/);
    // (unreachable at once, or no answer within 3 s when a route of A's own world leads elsewhere: never B's listener)
    expect(r.aNet).toMatch(/Connection refused\nend$/);
    // fork bomb: A at its limit; B forks 150 and runs commands, not at its limit
    expect(forked(String(r.aFork)).errno, String(r.aFork)).toBe(11);
    expect(r.aAtLimit).toBe(true);
    expect(forked(String(r.bForkWhileAFull))).toEqual({ ok: 150, errno: 0 });
    expect(r.bAtLimit).toBe(false);
    expect(r.bEchoWhileAFull).toBe('B works');
    // memory: A's hog killed by A's watch; B's watch killed nothing, B's process lives
    expect(r.aGrower).toEqual({ code: null, signal: 9 });
    expect(r.aMemoryKills).toBe(1);
    expect(r.bMemoryKills).toBe(0);
    expect(r.bMarkerAfterHog).toBe('alive');
    expect(r.bEchoAfterHog).toBe('B works');
    // disk: A's writes stop at A's bound; B writes 50 MiB afterwards
    expect(r.aDisk).toMatch(/No space left on device/);
    expect(r.bDisk).toMatch(/52428800 bytes[\s\S]*B-wrote/);
    // kill -9 -1 in A: every B process lives, B's world runs
    expect(r.bMarkerAfterKill).toBe('alive');
    expect(r.bListenerAfterKill).toBe('alive');
    expect(r.bEchoAfterKill).toBe('B works');
    expect(r.bState).toBe('running');
    console.log(`${who}: A stopped at "${String(r.aFork)}"; A's disk: ${String(r.aDisk).split('\n').at(-1)}`);
  }, 300_000);
});
