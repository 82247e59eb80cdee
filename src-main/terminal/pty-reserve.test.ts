// The terminal's process started ahead (pty-reserve.ts, pty-exec --await): taken by a shell in a real
// world, its orders read once from a FIFO only the engine's user can reach, bad orders refused.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { until, withWorld } from '../../test/helpers.js';
import { childrenOf, isAlive } from '../world/procfs.js';
import { nativeBinary } from '../world/world-init.js';
import { PtyReserve } from './pty-reserve.js';
import { TerminalService } from './terminal-service.js';

/** This process's children that are pty-exec waiting for orders. */
const waitingOnes = () =>
  childrenOf(process.pid).filter((p) => {
    try {
      return /\/pty-exec\0--await\0/.test(readFileSync(`/proc/${p}/cmdline`, 'utf8'));
    } catch {
      return false;
    }
  });

/** pty-exec --await at a fresh FIFO, given `orders` (or nothing); its exit code and what it printed. */
async function orderPtyExec(orders: Buffer | undefined): Promise<{ code: number | null; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-await-test-'));
  const fifo = join(dir, 'w');
  try {
    const p = spawn(nativeBinary('pty-exec'), ['--await', fifo], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => p.once('exit', r));
    await until('the FIFO', () => existsSync(fifo));
    // opening it for writing lets pty-exec's open return; closing it at once is "no orders"
    try {
      writeFileSync(fifo, orders ?? Buffer.alloc(0));
    } catch (e) {
      // orders over its limit: pty-exec stops reading and says so, which may cut this write short
      if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
    }
    return { code: await exited, out };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const words = (...w: string[]) => Buffer.from(w.map((s) => `${s}\0`).join(''));

describe('a terminal process started ahead (pty-exec --await)', () => {
  it('a shell takes it: in the node, with only the environment it was told, at the size asked; the FIFO is gone; another follows; dispose ends it', () =>
    withWorld(1, async (w) => {
      process.env.PODNET_TEST_ENGINE_ONLY = 'the engine keeps this';
      const reserve = new PtyReserve(0);
      const svc = new TerminalService(w, () => undefined, reserve);
      let out = '';
      svc.on('data', ({ data }) => (out += Buffer.from(data).toString()));
      try {
        await until('a pty-exec waiting for its orders', () => waitingOnes().length === 1);
        const [waiting] = waitingOnes();
        // the folder is the engine user's alone, and so is the FIFO in it
        expect(statSync(reserve.dir).mode & 0o777).toBe(0o700);
        await until('its FIFO', () => readdirSync(reserve.dir).length === 1);
        const fifo = statSync(join(reserve.dir, readdirSync(reserve.dir)[0]!));
        expect(fifo.isFIFO()).toBe(true);
        expect(fifo.mode & 0o777).toBe(0o600);

        const t = svc.open({ kind: 'node', node: 'node1' }, 100, 30);
        // the terminal's process is the one that waited: no fork of the engine for it
        expect(svc.pid(t.id)).toBe(waiting);
        await until(`node1's prompt in ${JSON.stringify(out)}`, () => out.includes('root@node1:/# '));
        svc.input(t.id, 'stty size; hostname; echo "node=$PODNET_NODE"; env | grep -c PODNET_TEST_ENGINE_ONLY\r');
        await until(`the answers in ${JSON.stringify(out.slice(-200))}`, () =>
          /30 100\r\nnode1\r\nnode=node1\r\n0\r\n/.test(out),
        );
        // its orders were read once: the FIFO is gone, and nothing else waits at it
        expect(readdirSync(reserve.dir)).toEqual([]);

        // another waits for the next terminal, a moment after
        await until(
          'the next pty-exec waiting',
          () => waitingOnes().length === 1 && waitingOnes()[0] !== waiting,
          5000,
        );
        const next = waitingOnes()[0]!;
        reserve.dispose();
        await until('the waiting one to end with the reserve', () => !isAlive(next));
        expect(existsSync(reserve.dir)).toBe(false);
      } finally {
        delete process.env.PODNET_TEST_ENGINE_ONLY;
        svc.dispose();
        reserve.dispose();
      }
    }));

  it('with none waiting yet, a terminal forks its own shell', () =>
    withWorld(1, async (w) => {
      const reserve = new PtyReserve(60_000);
      const svc = new TerminalService(w, () => undefined, reserve);
      let out = '';
      svc.on('data', ({ data }) => (out += Buffer.from(data).toString()));
      try {
        const t = svc.open({ kind: 'node', node: 'node1' }, 80, 24);
        await until('node1 prompt', () => out.includes('root@node1:/# '));
        expect(waitingOnes()).not.toContain(svc.pid(t.id));
        expect(readFileSync(`/proc/${svc.pid(t.id)}/cmdline`, 'utf8')).not.toContain('--await');
      } finally {
        svc.dispose();
        reserve.dispose();
      }
    }));

  it('does not hand over orders it cannot write unambiguously (an empty argument, a NUL): it keeps waiting', async () => {
    const reserve = new PtyReserve(0);
    try {
      await until('a pty-exec waiting for its orders', () => waitingOnes().length === 1);
      const [waiting] = waitingOnes();
      await until('its FIFO', () => readdirSync(reserve.dir).length === 1);
      const bin = nativeBinary('pty-exec');
      expect(reserve.take([bin, '--', 'sh', '-c', ''], { PATH: '/usr/bin:/bin' }, 80, 24)).toBeUndefined();
      expect(reserve.take([bin, '--', 'sh', '-c', 'echo a\0b'], { PATH: '/usr/bin:/bin' }, 80, 24)).toBeUndefined();
      expect(reserve.take([bin, '--', 'true'], { BAD: 'a\0b' }, 80, 24)).toBeUndefined();
      expect(waitingOnes()).toEqual([waiting]);
      expect(readdirSync(reserve.dir)).toHaveLength(1);
    } finally {
      reserve.dispose();
    }
  });

  it('refuses bad orders with a clear error and runs nothing', async () => {
    const cases: [string, Buffer | undefined, RegExp][] = [
      ['no orders at all', undefined, /its orders ended early \(0 bytes\)/],
      ['orders cut short (no final NUL)', Buffer.from('--\0sh'), /its orders ended early/],
      ['no environment part', words('--', 'sh', '-c', 'echo ran'), /its orders name no command/],
      ['no command', words('', 'A=1'), /its orders name no command/],
      ['another wait', words('--await', '/tmp/x', '', 'A=1'), /its orders name no command/],
      ['longer than 64 KiB', Buffer.alloc(70_000, 0x61), /its orders are longer than 65536 bytes/],
      ['more than 1024 words', words(...Array(1100).fill('x'), '', 'A=1'), /more than 1024 words/],
      ['an unknown option', words('--bogus', '1', '--', 'sh', '-c', 'echo ran', ''), /usage: pty-exec/],
    ];
    for (const [what, orders, error] of cases) {
      const r = await orderPtyExec(orders);
      expect({ what, out: r.out }).toEqual({ what, out: expect.stringMatching(error) });
      expect(r.out).not.toContain('ran');
      expect(r.code === 126 || r.code === 2, `${what}: exit ${r.code}`).toBe(true);
    }
    // good orders run, with the environment they name and nothing else
    const ok = await orderPtyExec(
      words('--', 'sh', '-c', 'echo "ran $ONLY"; env | wc -l', '', 'ONLY=this', 'PATH=/usr/bin:/bin'),
    );
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^ran this\n\s*3\n$/);
  });

  it('will not take orders from a file someone put where its FIFO goes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podnet-await-test-'));
    try {
      writeFileSync(join(dir, 'w'), words('--', 'sh', '-c', 'echo ran', '', 'PATH=/usr/bin:/bin'));
      const p = spawn(nativeBinary('pty-exec'), ['--await', join(dir, 'w')], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((r) => p.once('exit', r));
      expect(code).toBe(126);
      expect(out).toMatch(/pty-exec: cannot make .*\/w: File exists/);
      expect(out).not.toContain('ran');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an engine that exits without dispose leaves no folder and no waiting process behind', async () => {
    // a process of its own (the built engine's module), ended by its own last line
    const mod = join(import.meta.dirname, '../../out/src-main/terminal/pty-reserve.js');
    const script = `
      const { PtyReserve } = await import(${JSON.stringify(mod)});
      const r = new PtyReserve(0);
      const t0 = Date.now();
      while (!r.waiting && Date.now() - t0 < 10000) await new Promise((ok) => setTimeout(ok, 20));
      console.log(JSON.stringify({ dir: r.dir, pid: r.waiting?.proc.pid }));
      process.exit(0);`;
    const p = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    expect(await new Promise<number | null>((r) => p.once('exit', r))).toBe(0);
    const { dir, pid } = JSON.parse(out) as { dir: string; pid: number | undefined };
    expect(pid).toBeGreaterThan(0); // it did wait: the folder held its FIFO
    expect(dir).toMatch(/\/podnet-pty-/);
    expect(existsSync(dir)).toBe(false);
    await until('the waiting pty-exec gone', () => !isAlive(pid!));
  });
});
