// A shell's last output, kept. Two ways it was lost, both measured (terminal-service.test.ts):
// - libuv takes a hang-up seen after a short read for the end of the stream, and every read of a pty master
//   is short (the tty's 4 KiB): when the pty's last holder went while more than that was still in the
//   kernel, the rest was never read (node-pty #726; a quarter of `sh -c` runs that print 10 kB and exit).
//   The engine holds the pty's slave side open itself, so the master sees no hang-up while node-pty reads.
// - node-pty lets go of a pty 200 ms after its process has gone, read or not. A pty that flow control
//   holds paused then lost what was still in the kernel (up to ~68 KiB); once the process has gone, the
//   pty is read on, whatever flow control says: what is left is bounded by the kernel's buffers.
import { closeSync, constants, openSync } from 'node:fs';
import type { IPty } from 'node-pty';
import { isAlive } from '../world/procfs.js';

/** How often a paused pty checks whether its process has gone (node-pty gives it 200 ms after). */
const GONE_CHECK_MS = 40;

export class PtyTail {
  private slave: number | undefined;
  private check: NodeJS.Timeout | undefined;

  constructor(private readonly proc: IPty) {
    try {
      // never the engine's controlling terminal; close-on-exec, as every file Node opens
      this.slave = openSync((proc as unknown as { ptsName: string }).ptsName, constants.O_RDWR | constants.O_NOCTTY);
    } catch {
      // a pty already gone (its process ended at once): nothing left to keep
    }
  }

  /** The pty was paused by flow control: once its process has gone, read it to the end. */
  paused(): void {
    this.check ??= setInterval(() => {
      if (isAlive(this.proc.pid)) return;
      this.resumed();
      this.proc.resume();
    }, GONE_CHECK_MS).unref();
  }

  /** The pty reads again (acknowledged, or its process gone). */
  resumed(): void {
    clearInterval(this.check);
    this.check = undefined;
  }

  /** node-pty has let go (the process exited), or the terminal is closed: the slave side is not held. */
  release(): void {
    this.resumed();
    if (this.slave !== undefined) closeSync(this.slave);
    this.slave = undefined;
  }
}
