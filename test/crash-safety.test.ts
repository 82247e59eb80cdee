// Crash safety: SIGKILL the process that owns a world at random points, including in the middle of a
// CNI ADD or DEL; afterwards nothing of the lab is left on the host.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostDiff, hostSnapshot } from '../src-main/runtime/leaks.js';
import { isAlive } from '../src-main/world/procfs.js';
import { spawnAsNobody } from './helpers.js';

const CHILD = join(import.meta.dirname, 'fixtures/world-child.mjs');
/** Children this file started: killed by PID at the end, even if a test timed out. */
const started = new Set<ChildProcess>();
afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface KillPoint {
  at: string;
  leaks: string[];
}

/** Starts the churn child, kills it when `when` says so, and returns what the host still shows after. */
async function killAt(when: (line: { event: string }) => boolean, delayMs: number): Promise<KillPoint> {
  const child = spawn(process.execPath, [CHILD, 'churn'], { stdio: ['ignore', 'pipe', 'inherit'] });
  started.add(child);
  const mine = `world-${child.pid}-`;
  const before = hostSnapshot(mine);
  let world: { outerPid: number; stateDir: string } | undefined;
  let at = `${delayMs} ms after start`;
  const armed = new Promise<void>((resolve) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = JSON.parse(buf.slice(0, nl)) as { event: string; outerPid: number; stateDir: string };
        buf = buf.slice(nl + 1);
        if (line.event === 'world') world = line;
        if (when(line)) {
          at = `${delayMs} ms into ${line.event}`;
          resolve();
        }
      }
    });
    child.on('exit', () => resolve());
  });
  if (delayMs >= 0 && when({ event: 'start' })) at = `${delayMs} ms after start`;
  else await armed;
  await sleep(delayMs < 0 ? 0 : delayMs);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  // world-init sees its lifeline close and ends the world: give it a moment (the kill may land before
  // the child could say which world it had, so wait on the host's view too)
  const leaks: string[] = [];
  for (let i = 0; i < 50; i++) {
    const gone = !world || (!isAlive(world.outerPid) && !existsSync(world.stateDir));
    if (gone && hostSnapshot(mine).processes.length === 0) break;
    await sleep(100);
  }
  if (world && isAlive(world.outerPid)) leaks.push(`world process ${world.outerPid} still alive`);
  if (world && existsSync(world.stateDir)) leaks.push(`state folder ${world.stateDir} left`);
  leaks.push(...hostDiff(before, hostSnapshot(mine)));
  return { at, leaks };
}

describe('crash safety', () => {
  it('SIGKILL of the engine at random points leaves nothing on the host', async () => {
    const points: KillPoint[] = [];
    // random moments from the start: before, during and after the world starts, amid pod churn
    for (const delay of [0, 5, 20, 40, 70, 100, 150, 220, 300, 450, 600, 800]) {
      points.push(await killAt((l) => l.event === 'start', delay + Math.floor(Math.random() * 20)));
    }
    // in the middle of a CNI ADD and a CNI DEL (bridge and host-local are running)
    for (const delay of [0, 2, 5, 10, 15, 25]) {
      points.push(await killAt((l) => l.event === 'CNI ADD', delay));
      points.push(await killAt((l) => l.event === 'CNI DEL', delay));
    }
    const leaky = points.filter((p) => p.leaks.length);
    console.log(`crash safety: ${points.length} kill points tried, ${leaky.length} with leaks`);
    expect(leaky).toEqual([]);
    expect(points.length).toBe(24);
  }, 120_000);
});

describe('unprivileged', () => {
  const nobody = (args: string[]) => spawnAsNobody(args);

  it('runs the lifecycle as nobody, in a user namespace: pods get IPs, ping, and leave nothing', () => {
    const r = nobody([process.execPath, CHILD, 'lifecycle']);
    expect(r.status, r.stderr).toBe(0);
    const done = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((l) => l.event === 'done');
    expect(done.outerUid).toBe(65534);
    expect(done.ip).toMatch(/^10\.244\.1\.\d+$/);
    expect(done.ping).toBe(0);
    expect(done.leftovers).toEqual([]);
  });

  it('podnet trace passes as nobody', () => {
    const r = nobody([
      process.execPath,
      join(import.meta.dirname, '../bin/podnet.mjs'),
      'trace',
      '--nodes',
      '2',
      '--pods',
      '3',
    ]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('✓ Nothing left on the nodes');
    expect(r.stdout).toContain('✓ World destroyed; the host is unchanged');
  });
});
