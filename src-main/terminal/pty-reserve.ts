// A terminal's process started ahead, before its world exists: pty-exec in a pty, waiting at a FIFO for
// its orders (pty-exec --await). node-pty forks the whole engine for each pty (3–5 ms on the engine's
// thread); a shell that takes the waiting one skips that fork and pty-exec's exec, and the engine's thread
// is free for the world's start meanwhile. One waits at a time; another is started once the engine has
// been idle a while after each is taken.
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { nativeBinary } from '../world/world-init.js';
import { killSession } from './kill-session.js';

/** How long after the engine starts (or after one is taken) the next waits: off a start's busy moments. */
const REFILL_MS = 1000;
/** A pty started before its terminal's size is known (xterm's default); the terminal that takes it resizes it. */
export const AHEAD_COLS = 80;
export const AHEAD_ROWS = 24;
/** After this many waiting ones ended untold, in a row, none is started again. */
const MAX_FAILURES = 3;

interface Waiting {
  proc: pty.IPty;
  fifo: string;
  exited: boolean;
  sub: pty.IDisposable;
}

export class PtyReserve {
  /** A folder of this engine's only (0700): the FIFOs are made there, so no one else can give orders. */
  readonly dir = mkdtempSync(join(tmpdir(), 'podnet-pty-'));
  private waiting: Waiting | undefined;
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;
  /** Waiting ones that ended before they were told anything, in a row. */
  private failures = 0;
  private disposed = false;

  constructor(firstAfterMs = REFILL_MS) {
    this.later(firstAfterMs);
    process.once('exit', this.onExit);
  }

  /** An engine that ends without dispose (a crash, a script's last line) leaves no folder in /tmp. */
  private readonly onExit = (): void => {
    if (this.waiting) killSession(this.waiting.proc.pid);
    rmSync(this.dir, { recursive: true, force: true });
  };

  /**
   * The waiting pty-exec, told to run `argv` (pty-exec's options and a command) with `env`; undefined
   * when none waits at its FIFO yet (the caller spawns its own). The pty is the caller's from here.
   */
  take(argv: string[], env: Record<string, string>, cols: number, rows: number): pty.IPty | undefined {
    const w = this.waiting;
    if (!w || w.exited || argv[0] !== nativeBinary('pty-exec')) return undefined;
    const words = [...argv.slice(1), '', ...Object.entries(env).map(([k, v]) => `${k}=${v}`)];
    // an empty argument would read as the end of the arguments, a NUL as two words: such a shell forks its own
    if (argv.slice(1).some((a) => a === '') || words.some((x) => x.includes('\0'))) return undefined;
    const orders = Buffer.from(words.map((x) => `${x}\0`).join(''));
    let fd: number;
    try {
      // non-blocking: fails (ENXIO) unless pty-exec already waits at it, so the engine never blocks here
      fd = openSync(w.fifo, constants.O_WRONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    } catch {
      return undefined; // still starting: it stays, for the next terminal
    }
    this.waiting = undefined;
    this.failures = 0;
    w.sub.dispose();
    // its size before the shell starts: the shell reads it once, at its start
    if (cols !== AHEAD_COLS || rows !== AHEAD_ROWS) w.proc.resize(cols, rows);
    try {
      // a FIFO's buffer is 64 KiB and pty-exec reads it at once: orders are a few hundred bytes
      if (writeSync(fd, orders) !== orders.length) throw new Error('short write');
    } catch {
      closeSync(fd);
      killSession(w.proc.pid);
      this.later(REFILL_MS);
      return undefined;
    }
    closeSync(fd);
    this.later(REFILL_MS);
    return w.proc;
  }

  dispose(): void {
    this.disposed = true;
    process.off('exit', this.onExit);
    clearTimeout(this.timer);
    if (this.waiting) killSession(this.waiting.proc.pid);
    this.waiting = undefined;
    rmSync(this.dir, { recursive: true, force: true });
  }

  private later(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fill(), ms);
    this.timer.unref();
  }

  private fill(): void {
    if (this.disposed || this.waiting) return;
    const fifo = join(this.dir, `w${++this.seq}`);
    let proc: pty.IPty;
    try {
      // nothing of the engine's environment: the orders bring the command's own
      proc = pty.spawn(nativeBinary('pty-exec'), ['--await', fifo], {
        name: 'xterm-256color',
        cols: AHEAD_COLS,
        rows: AHEAD_ROWS,
        cwd: '/',
        env: {},
        encoding: null,
      });
    } catch {
      return; // each terminal starts its own, as without a reserve
    }
    const w: Waiting = { proc, fifo, exited: false, sub: { dispose: () => {} } };
    w.sub = proc.onExit(() => {
      w.exited = true;
      if (this.waiting !== w) return;
      this.waiting = undefined;
      // one that ends untold cannot wait here (no FIFO?): after a few, terminals start their own
      if (++this.failures < MAX_FAILURES) this.later(REFILL_MS);
    });
    this.waiting = w;
  }
}
