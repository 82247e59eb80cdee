// Terminal flow control, the way VS Code does it: the engine counts what it has sent to a terminal
// view and the view says how much it has parsed, in bytes of the pty's output (what crosses the
// transport). A shell that prints faster than xterm.js can parse (`yes`, `cat` of a big file) is
// paused at the pty instead of filling the engine's and the transport's memory; the kernel then
// blocks the writer, as a real terminal would.
// The window is wider than VS Code's (100 000 / 5 000 characters): measured here, that window let
// the view run dry on every refill and 50 MB took twice as long (bench/terminal-throughput.ts); on a
// loaded machine even 1 MB did (the page sat idle a sixth of a flood, waiting for the pty's refill).
// Shared by the engine (FlowController, DataBuffer) and the renderer (AckCounter): no Node imports.

export const enum FlowControl {
  /**
   * Unacknowledged bytes at which the engine pauses the pty: what a runaway command may hold in
   * flight between the pty and the view (about a tenth of a second of xterm's parsing on a quiet
   * machine, more on a loaded one). Normal output never reaches it (a screenful is a few thousand bytes).
   */
  HighWatermarkBytes = 4_000_000,
  /**
   * Unacknowledged bytes below which a paused pty resumes: high enough that the view still has
   * output to parse for longer than the pty takes to refill and the transport to deliver, so it
   * never waits; well under the high watermark, so the pty does not flap on every ack.
   */
  LowWatermarkBytes = 2_000_000,
  /**
   * Bytes the view parses before it sends one ack (two transport frames). It must not exceed
   * LowWatermarkBytes: otherwise the count could sit between the low watermark and one ack's worth
   * forever, and a paused pty would never resume.
   */
  AckBatchBytes = 524_288,
}

/** Counts bytes sent and not yet acknowledged, and says when the source should pause or resume. */
export class FlowController {
  private unacked = 0;
  private paused = false;

  constructor(
    private readonly high: number = FlowControl.HighWatermarkBytes,
    private readonly low: number = FlowControl.LowWatermarkBytes,
  ) {}

  /** Records bytes sent to the view; true when the source must pause now. */
  sent(bytes: number): boolean {
    this.unacked += bytes;
    if (!this.paused && this.unacked > this.high) {
      this.paused = true;
      return true;
    }
    return false;
  }

  /** Records bytes the view has parsed; true when a paused source may resume now. */
  ack(bytes: number): boolean {
    this.unacked = Math.max(0, this.unacked - bytes);
    if (this.paused && this.unacked < this.low) {
      this.paused = false;
      return true;
    }
    return false;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get unacknowledged(): number {
    return this.unacked;
  }
}

/**
 * Merges a source's output over a short window before emitting it: a shell writes in many small
 * pieces (a prompt is often several writes), and one message per piece would flood the transport
 * and the view. The first piece starts the window; everything until it ends goes out as one piece,
 * or sooner once FLUSH_BYTES are held: a flood needs no merging, only a steady stream.
 */
export class DataBuffer {
  private pending: Uint8Array[] = [];
  private size = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly emit: (data: Uint8Array) => void,
    private readonly windowMs = 5,
    private readonly flushBytes = DataBuffer.FLUSH_BYTES,
  ) {}

  /** A flood's frames: big enough that per-message costs (the socket, Chromium's IPC, the page's event) stay small. */
  static readonly FLUSH_BYTES = 256 * 1024;

  push(data: Uint8Array): void {
    if (!data.length) return;
    this.pending.push(data);
    this.size += data.length;
    if (this.size >= this.flushBytes) return this.flush();
    this.timer ??= setTimeout(() => this.flush(), this.windowMs);
  }

  /** Emits what is pending now (before an exit, so no output arrives after it). */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const data = this.pending.length === 1 ? this.pending[0]! : concat(this.pending, this.size);
    this.pending = [];
    this.size = 0;
    this.emit(data);
  }

  /** Drops what is pending and emits nothing more. */
  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
    this.size = 0;
  }
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The view's side: counts parsed bytes and says when a batch is worth an ack. */
export class AckCounter {
  private count = 0;

  constructor(private readonly batch: number = FlowControl.AckBatchBytes) {}

  /** Adds parsed bytes; returns how many to ack now (0: not yet). */
  parsed(bytes: number): number {
    this.count += bytes;
    if (this.count < this.batch) return 0;
    const n = this.count;
    this.count = 0;
    return n;
  }
}
