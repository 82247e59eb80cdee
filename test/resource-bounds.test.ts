// Resource bounds per world: a fork bomb or a runaway plugin in a lab is contained and reported, the
// engine stays responsive, and nothing is left. Verified as root and as nobody.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostDiff, hostSnapshot } from '../src-main/runtime/leaks.js';
import { createWorld, WorldError } from '../src-main/world/world.js';
import { ExecError } from '../src-main/cni/errors.js';
import { Kubelet } from '../src-main/runtime/kubelet.js';
import { addPlugin, expectClean, failure, writeConf } from './helpers.js';

const ROOT = join(import.meta.dirname, '..');
const PROBE = join(ROOT, 'out/test-fixtures/fork-probe');
const CHILD = join(import.meta.dirname, 'fixtures/world-child.mjs');
const NOBODY = ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--'];
const started = new Set<ChildProcess>();
/** The classic fork bomb, :(){ :|:& };: in sh's words. */
const BOMB = 'f() { f | f & }; f';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(() => {
  // a bounded fork loop (never more forks than asked), built here so the world can run it from the host's files
  mkdirSync(join(ROOT, 'out/test-fixtures'), { recursive: true });
  execFileSync('cc', ['-O2', '-Wall', '-o', PROBE, join(import.meta.dirname, 'fixtures/fork-probe.c')]);
});
afterAll(() => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/** Processes in the PID namespace of `pid` (read from the host's /proc). */
function inPidNs(ns: string): number {
  let n = 0;
  for (const d of readdirSync('/proc')) {
    try {
      if (/^\d+$/.test(d) && readlinkSync(`/proc/${d}/ns/pid`) === ns) n++;
    } catch {
      /* gone */
    }
  }
  return n;
}

const forked = (line: string) => {
  const m = /^forked (\d+) errno (\d+)$/.exec(line.trim());
  if (!m) throw new Error(`unexpected probe output: ${line}`);
  return { ok: Number(m[1]), errno: Number(m[2]) };
};

describe('the kernel claim behind the bounds', () => {
  it('RLIMIT_NPROC set in a user namespace bounds it for nobody, not for root; processes outside are unaffected', async () => {
    const ns = ['unshare', '--user', '--map-root-user', '--pid', '--fork', '--mount-proc', PROBE, '30', '100'];
    // as root the kernel waives RLIMIT_NPROC (the world's root is the host's): why world-init sets pid_max too
    expect(forked(execFileSync(ns[0]!, ns.slice(1), { encoding: 'utf8' }))).toEqual({ ok: 100, errno: 0 });
    // as nobody: unshare and the probe count, so 28 more and then EAGAIN; hold them while nobody forks outside
    const held = spawn('setpriv', [...NOBODY, ...ns, 'hold'], { stdio: ['pipe', 'pipe', 'inherit'] });
    started.add(held);
    const line = await new Promise<string>((res) => held.stdout.once('data', (d: Buffer) => res(d.toString())));
    expect(forked(line)).toEqual({ ok: 28, errno: 11 });
    const outside = spawnSync('setpriv', [...NOBODY, PROBE, '0', '50'], { encoding: 'utf8' });
    expect(forked(outside.stdout)).toEqual({ ok: 50, errno: 0 });
    held.stdin.end();
    await new Promise((r) => held.once('exit', r));
  });
});

describe('a world with a process limit', () => {
  it('refuses a spawn at its limit with a clear error, contains a fork bomb, stays responsive, and leaves nothing', async () => {
    const limit = 100;
    const before = hostSnapshot(`world-${process.pid}-`);
    const world = await createWorld({ nodes: 1, limits: { processes: limit } });
    const node = { kind: 'node' as const, node: 'node1' };
    const ns = readlinkSync(`/proc/${world.hostPid(1)}/ns/pid`);
    const stateDir = world.stateDir;
    try {
      // first a bounded loop: it gets what is left of the limit, then EAGAIN
      const held = world.spawn(node, [PROBE, '0', String(limit + 400), 'hold'], { stdin: true });
      let out = '';
      held.on('stdout', (d) => (out += d.toString()));
      await new Promise<void>((r) => held.on('stdout', () => out.includes('\n') && r()));
      const loop = forked(out);
      expect(loop.errno).toBe(11);
      // world-init has a PID below the range; unshare, outside the namespace, made it (its children are born in it)
      expect(world.processCount()).toBe(limit + 2);
      expect(world.atProcessLimit()).toBe(true);
      const refused = await failure(world.exec(node, ['true']));
      expect(refused.message).toBe(`the world has reached its limit of ${limit} processes`);
      // the engine's own processes are not the world's
      expect(execFileSync('sh', ['-c', 'echo outside'], { encoding: 'utf8' })).toBe('outside\n');
      held.end();
      await held.exited;
      // the refusal is remembered, but not once the world has emptied
      expect(world.atProcessLimit()).toBe(false);

      // the bound holds: now the fork bomb, watched from the engine
      let maxDelay = 0;
      let last = performance.now();
      const tick = setInterval(() => {
        const now = performance.now();
        maxDelay = Math.max(maxDelay, now - last - 50);
        last = now;
      }, 50);
      let maxInWorld = 0;
      let refusals = 0;
      // a bomb's shells die when a fork fails, so it can burn out: light it again whenever it does
      for (let i = 0; i < 30; i++) {
        if (!world.atProcessLimit()) await world.spawn(node, ['sh', '-c', BOMB]).started.catch(() => refusals++);
        await sleep(100);
        maxInWorld = Math.max(maxInWorld, inPidNs(ns));
      }
      clearInterval(tick);
      console.log(
        `fork bomb: at most ${maxInWorld} processes in the world (limit ${limit}), ${refusals} relights refused at the limit; the engine's timer was late by at most ${Math.round(maxDelay)} ms`,
      );
      expect(maxInWorld).toBeGreaterThan(limit / 2); // it did run
      expect(maxInWorld).toBeLessThanOrEqual(limit + 1);
      expect(maxDelay).toBeLessThan(2000);
    } finally {
      await world.destroy();
    }
    expect(existsSync(stateDir)).toBe(false);
    expect(inPidNs(ns)).toBe(0);
    expect(hostDiff(before, hostSnapshot(`world-${process.pid}-`))).toEqual([]);
  }, 120_000);

  it('holds as nobody too (RLIMIT_NPROC counts the world exactly there)', () => {
    const r = spawnSync(
      'setpriv',
      [
        ...NOBODY,
        'env',
        '-i',
        `PATH=${process.env.PATH}`,
        'HOME=/tmp',
        process.execPath,
        CHILD,
        'bounds',
        PROBE,
        '100',
        'bomb',
      ],
      {
        encoding: 'utf8',
        timeout: 90_000,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const done = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as {
      loop: string;
      count: number;
      refused: string;
      atLimit: boolean;
      outerUid: number;
    };
    expect(done.atLimit).toBe(true);
    expect(done.outerUid).toBe(65534);
    expect(forked(done.loop).errno).toBe(11);
    expect(done.refused).toBe('the world has reached its limit of 100 processes');
    expect(done.count).toBeGreaterThan(50);
    // the world's tasks as the engine counts them: at most the limit, world-init, and unshare outside the namespace
    expect(done.count).toBeLessThanOrEqual(102);
  }, 120_000);

  it('bounds a terminal’s processes too (terminals enter the world from the engine’s side)', async () => {
    const world = await createWorld({ nodes: 1, limits: { processes: 100, memoryBytes: 1024 ** 3 } });
    try {
      const argv = world.enterArgv({ kind: 'node', node: 'node1' });
      const limits = execFileSync(
        argv[0]!,
        [...argv.slice(1), 'sh', '-c', 'grep -E "Max (processes|address space)" /proc/self/limits'],
        { encoding: 'utf8' },
      );
      expect(limits).toMatch(/Max processes\s+100\s+100/);
      expect(limits).toMatch(new RegExp(`Max address space\\s+${1024 ** 3}\\s+${1024 ** 3}`));
      const loop = forked(execFileSync(argv[0]!, [...argv.slice(1), PROBE, '0', '500'], { encoding: 'utf8' }));
      expect(loop.errno).toBe(11);
      expect(loop.ok).toBeLessThan(100);
    } finally {
      await world.destroy();
    }
  }, 60_000);

  it('bounds each process’s memory: a runaway allocation dies, and the world goes on', async () => {
    const world = await createWorld({ nodes: 1, limits: { memoryBytes: 1024 ** 3 } });
    try {
      const node = { kind: 'node' as const, node: 'node1' };
      // doubles a string until something stops it
      const runaway = await world.exec(node, ['awk', 'BEGIN { s = "a"; while (1) s = s s }']);
      expect(runaway.code).not.toBe(0);
      expect(runaway.stderr).toMatch(/out of memory|cannot allocate/i); // mawk, gawk
      expect(await world.run(node, ['sh', '-c', 'grep "Max address space" /proc/self/limits'])).toContain(
        String(1024 ** 3),
      );
      expect(await world.run(node, ['echo', 'still here'])).toBe('still here\n');
    } finally {
      await world.destroy();
    }
  }, 60_000);

  it('contains a runaway plugin: its ADD fails with the plugin’s own words, the pod is not created, nothing is left', async () => {
    const world = await createWorld({ nodes: 1, limits: { memoryBytes: 1024 ** 3 } });
    try {
      // doubles a string until the memory bound stops it (on ADD only, so DEL can clean up)
      await addPlugin(
        world,
        'node1',
        'hog',
        '#!/bin/sh\n[ "$CNI_COMMAND" = ADD ] || exit 0\nexec awk "BEGIN { s = \\"a\\"; while (1) s = s s }"\n',
      );
      writeConf(world, 'node1', '10-hog.conflist', { cniVersion: '1.0.0', name: 'hog', plugins: [{ type: 'hog' }] });
      // use_internal_loopback: with the loopback plugin beside it (go-cni runs both at once), the bound can hit
      // whichever allocates next, and go-cni reports the first network that fails: the hog alone here
      const kubelet = new Kubelet(world, { loopback: 'internal' });
      const e = await failure(kubelet.syncPod({ name: 'web', node: 'node1' }));
      // the kubelet's and containerd's wrapping, around the executor's error
      let cause: unknown = e;
      while (cause instanceof Error && cause.cause) cause = cause.cause;
      expect(cause).toBeInstanceOf(ExecError);
      expect(e.message).toMatch(
        /^Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "[0-9a-f]{64}": plugin type="hog" failed \(add\): netplugin failed: .*(out of memory|cannot allocate)/i,
      );
      expect(kubelet.pods.size).toBe(0);
      await expectClean(world);
    } finally {
      await world.destroy();
    }
  }, 60_000);

  it('rejects limits a world cannot work with, before starting anything', async () => {
    for (const limits of [{ processes: 5 }, { processes: -1 }, { processes: 1.5 }, { memoryBytes: 1024 }]) {
      const e = await failure(createWorld({ nodes: 1, limits }));
      expect(e).toBeInstanceOf(WorldError);
      expect(e.message).toMatch(
        /a world( of 1 nodes needs a process limit of at least 17|'s memory limit per process is at least 64 MiB)/,
      );
    }
  });
});
