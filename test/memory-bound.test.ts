// A bound on a whole world's memory (src-main/world/memory-watch.ts): a lab process that grows is
// killed, the UI's status names it, and nothing else of the world is harmed. As root and as nobody.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { WorldStatus } from '../src-main/api/contract.js';
import { createEngine, type Engine } from '../src-main/engine/engine.js';
import { TerminalService } from '../src-main/terminal/terminal-service.js';
import {
  chooseVictim,
  formatBytes,
  VICTIM_FLOOR,
  worldProcesses,
  type WorldProc,
} from '../src-main/world/memory-watch.js';
import { createWorld, DEFAULT_LIMITS, WorldError } from '../src-main/world/world.js';
import { failure } from './helpers.js';

const MiB = 1024 ** 2;
const LIMIT = 200 * MiB;
/** Grows by 1 MiB every 10 ms (about 100 MiB/s, steadily: its RSS really grows), forever. */
const GROWER = '$s = ""; while (1) { $s .= "x" x 1048576; select(undef, undef, undef, 0.01) }';
const NOBODY = ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--'];
const REPORT = (pid: number) =>
  new RegExp(`^lab world memory limit 200 MiB reached: killed pid ${pid} \\(perl -e .*\\) using \\d+ MiB$`);

const proc = (hostPid: number, bytes: number): WorldProc => ({
  hostPid,
  ppid: 1,
  startTime: 1,
  comm: 'p',
  pidNs: 'pid:[1]',
  bytes,
});

describe('choosing whom to kill', () => {
  it('takes the largest process that is neither spared nor a bystander', () => {
    const procs = [proc(10, 50 * MiB), proc(11, 300 * MiB), proc(12, 900 * MiB), proc(13, 1 * MiB)];
    expect(chooseVictim(procs, new Set())?.hostPid).toBe(12);
    expect(chooseVictim(procs, new Set([12]))?.hostPid).toBe(11);
    // a pod's pause or a shell is never the one, even when nothing bigger is left
    expect(chooseVictim([proc(13, VICTIM_FLOOR - 1), proc(14, 1024)], new Set())).toBeUndefined();
    expect(formatBytes(2 * 1024 ** 3)).toBe('2 GiB');
    expect(formatBytes(LIMIT)).toBe('200 MiB');
  });

  it('defaults to 2 GiB or half the machine, and refuses a limit a world cannot work with', async () => {
    const total = Number(/^MemTotal:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;
    expect(DEFAULT_LIMITS.worldMemoryBytes).toBe(Math.min(2 * 1024 ** 3, Math.floor(total / 2)));
    for (const worldMemoryBytes of [-1, 1.5, 1024]) {
      const e = await failure(createWorld({ nodes: 1, limits: { worldMemoryBytes } }));
      expect(e).toBeInstanceOf(WorldError);
      expect(e.message).toMatch(/a world's memory limit as a whole is at least 64 MiB/);
    }
  });
});

describe('a world over its memory limit', () => {
  let engine: Engine | undefined;
  afterAll(() => engine?.dispose());

  it('kills the growing lab process, says so in the world’s status, and the world and engine go on', async () => {
    engine = createEngine({ terminals: (w, r) => new TerminalService(w, r), worldLimits: { worldMemoryBytes: LIMIT } });
    const { api } = engine;
    const statuses: WorldStatus[] = [];
    engine.events.on('event', (e, p) => e === 'world.changed' && statuses.push(p as WorldStatus));
    await api['world.start']({ nodes: 1 });
    const world = engine.session.runningWorld!;
    await api['pod.create']({ name: 'web', node: 'node1' });
    const bystander = world.spawn({ kind: 'node', node: 'node1' }, ['sleep', '1000']);
    await bystander.started;
    // everything the world runs now must still run after the kill: holders, the pod's pause and httpd, the bystander
    // (the long-lived ones: other parts of the engine run short commands in the world all along)
    // (named as they are the second time: a container's shell may not yet have become httpd the first time)
    const first = new Set(worldProcesses(world.hostPid(1)).map((p) => `${p.hostPid}/${p.startTime}`));
    await new Promise((r) => setTimeout(r, 1500));
    const before = worldProcesses(world.hostPid(1)).filter((p) => first.has(`${p.hostPid}/${p.startTime}`));
    const names = before.map((p) => p.comm);
    for (const c of ['world-init', 'world-confine', 'node-holder', 'sleep', 'httpd'])
      expect(names, `${c} is among the world's processes`).toContain(c);

    const grower = world.spawn({ kind: 'node', node: 'node1' }, ['perl', '-e', GROWER]);
    const pid = await grower.started;
    const t0 = performance.now();
    expect(await grower.exited).toEqual({ code: null, signal: 9 });
    const kill = world.memory!.kills[0]!;
    console.log(
      `memory watch: killed ${kill.comm} at ${formatBytes(kill.bytes)} (world ${formatBytes(kill.totalBytes)}, limit ${formatBytes(LIMIT)}) ${Math.round(performance.now() - t0)} ms after it started`,
    );
    expect(world.memory!.kills).toHaveLength(1);
    expect(kill.pid).toBe(pid);
    expect(kill.totalBytes).toBeGreaterThan(LIMIT);
    // one tick of growth (250 ms at ~100 MiB/s) past the limit, not more
    expect(kill.totalBytes).toBeLessThan(LIMIT + 100 * MiB);
    expect(statuses.at(-1)!.error).toMatch(REPORT(pid));
    expect((await api['world.status']({})).error).toMatch(REPORT(pid));

    const after = new Map(worldProcesses(world.hostPid(1)).map((p) => [p.hostPid, p.startTime]));
    for (const p of before) expect(after.get(p.hostPid), `${p.comm} (${p.hostPid}) was harmed`).toBe(p.startTime);
    expect(bystander.hasExited).toBe(false);
    expect((await api['pod.list']({}))[0]).toMatchObject({ name: 'web', ready: true });
    const web2 = await api['pod.create']({ name: 'web2', node: 'node1' });
    expect(web2.ip).toMatch(/^10\.244\.1\./);
    expect(await world.run({ kind: 'node', node: 'node1' }, ['echo', 'still here'])).toBe('still here\n');
  }, 120_000);

  it('finds a terminal’s processes too (they enter the world with pty-exec, not through world-init)', async () => {
    const { api } = engine!;
    const world = engine!.session.runningWorld!;
    const term = await api['terminal.open']({ target: { kind: 'node', node: 'node1' }, cols: 80, rows: 24 });
    const killed = world.memory!.kills.length;
    const shells = () => worldProcesses(world.hostPid(1)).filter((p) => p.comm === 'bash');
    await expect.poll(() => shells().length, { timeout: 10_000 }).toBeGreaterThan(0);
    const shell = shells()[0]!;
    await api['terminal.input']({ id: term.id, data: `perl -e '${GROWER}'\n` });
    await expect.poll(() => world.memory!.kills.length, { timeout: 30_000, interval: 100 }).toBe(killed + 1);
    const kill = world.memory!.kills.at(-1)!;
    expect(kill.comm).toBe('perl');
    expect(kill.message).toMatch(REPORT(kill.pid));
    // the terminal's shell is not the one that goes
    expect(worldProcesses(world.hostPid(1)).find((p) => p.hostPid === shell.hostPid)?.startTime).toBe(shell.startTime);
    expect((await api['terminal.list']({})).find((t) => t.id === term.id)?.exited).toBe(false);
  }, 60_000);

  it('holds as nobody (the watch reads the world’s /proc as the same user)', () => {
    const r = spawnSync(
      'setpriv',
      [
        ...NOBODY,
        'env',
        '-i',
        `PATH=${process.env.PATH}`,
        'HOME=/tmp',
        process.execPath,
        join(import.meta.dirname, 'fixtures/world-child.mjs'),
        'memory',
        '200',
        GROWER,
      ],
      {
        encoding: 'utf8',
        timeout: 90_000,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const done = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      message: string;
      comm: string;
      growerPid: number;
      pid: number;
      exit: unknown;
      bystanderAlive: boolean;
      after: string;
      outerUid: number;
      kills: number;
    };
    expect(done.outerUid).toBe(65534);
    expect(done.exit).toEqual({ code: null, signal: 9 });
    expect(done.pid).toBe(done.growerPid);
    expect(done.message).toMatch(REPORT(done.growerPid));
    expect(done.kills).toBe(1);
    expect(done.bystanderAlive).toBe(true);
    expect(done.after).toBe('still here\n');
  }, 120_000);
});

describe('the watches of several worlds in one engine process (a workshop’s seats)', () => {
  it('each counts and kills only in its own world, though their ticks share one read of /proc', async () => {
    const a = await createWorld({ nodes: 1, limits: { worldMemoryBytes: LIMIT } });
    const b = await createWorld({ nodes: 1, limits: { worldMemoryBytes: LIMIT } });
    try {
      const node = { kind: 'node' as const, node: 'node1' };
      // b holds a good part of what a may hold: a's watch must not count it, b's must not act
      const held = b.spawn(node, ['perl', '-e', '$s = "x" x (60 * 1048576); sleep 1000']);
      const grower = a.spawn(node, ['perl', '-e', GROWER]);
      const growerPid = await grower.started;
      await held.started;
      const exit = await grower.exited;
      expect(exit).toEqual({ code: null, signal: 9 });
      expect(a.memory!.kills.map((k) => k.pid)).toEqual([growerPid]);
      expect(b.memory!.kills).toEqual([]);
      // b’s holder (perl may keep two copies: 120 MiB) is alive and counted in b only
      expect((await b.exec(node, ['sh', '-c', 'kill -0 $(pidof perl) && echo alive'])).stdout).toBe('alive\n');
      const inB = worldProcesses(b.hostPid(1), false).filter((p) => p.comm === 'perl');
      expect(inB).toHaveLength(1);
      expect(worldProcesses(a.hostPid(1), false).some((p) => p.hostPid === inB[0]!.hostPid)).toBe(false);
    } finally {
      await Promise.all([a.destroy(), b.destroy()]);
    }
  }, 120_000);
});
