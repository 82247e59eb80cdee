// Terminal flow control, the way VS Code does it: the engine counts what it has sent to a terminal
// view and the view says how much it has parsed. A shell that prints faster than xterm.js can parse
// (`yes`, `cat` of a big file) is paused at the pty instead of filling the engine's and the
// transport's memory; the kernel then blocks the writer, as a real terminal would.
// Shared by the engine (FlowController, DataBuffer) and the renderer (AckCounter): no Node imports.

export const enum FlowControl {
  /**
   * Unacknowledged characters at which the engine pauses the pty. Large enough that normal output
   * never pauses (a screenful is a few thousand characters), small enough that a runaway command
   * holds at most this much in flight between the pty and the view.
   */
  HighWatermarkChars = 100000,
  /**
   * Unacknowledged characters below which a paused pty resumes. Well under the high watermark so the
   * pty does not flap between paused and running on every ack, yet above zero so the view still has
   * output to parse while the pty refills: resuming only at zero would make the output stutter.
   */
  LowWatermarkChars = 5000,
  /**
   * Characters the view parses before it sends one ack. Batching keeps acks from doubling the
   * messages on the transport. It must not exceed LowWatermarkChars: otherwise the count could sit
   * between the low watermark and one ack's worth forever, and a paused pty would never resume.
   */
  CharCountAckSize = 5000,
}

/** Counts characters sent and not yet acknowledged, and says when the source should pause or resume. */
export class FlowController {
  private unacked = 0;
  private paused = false;

  constructor(
    private readonly high: number = FlowControl.HighWatermarkChars,
    private readonly low: number = FlowControl.LowWatermarkChars,
  ) {}

  /** Records characters sent to the view; true when the source must pause now. */
  sent(chars: number): boolean {
    this.unacked += chars;
    if (!this.paused && this.unacked > this.high) {
      this.paused = true;
      return true;
    }
    return false;
  }

  /** Records characters the view has parsed; true when a paused source may resume now. */
  ack(chars: number): boolean {
    this.unacked = Math.max(0, this.unacked - chars);
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
 * and the view. The first piece starts the window; everything until it ends goes out as one string.
 */
export class DataBuffer {
  private pending: string[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly emit: (data: string) => void,
    private readonly windowMs = 5,
  ) {}

  push(data: string): void {
    if (!data) return;
    this.pending.push(data);
    this.timer ??= setTimeout(() => this.flush(), this.windowMs);
  }

  /** Emits what is pending now (before an exit, so no output arrives after it). */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const data = this.pending.join('');
    this.pending = [];
    this.emit(data);
  }

  /** Drops what is pending and emits nothing more. */
  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = [];
  }
}

/** The view's side: counts parsed characters and says when a batch is worth an ack. */
export class AckCounter {
  private count = 0;

  constructor(private readonly batch: number = FlowControl.CharCountAckSize) {}

  /** Adds parsed characters; returns how many to ack now (0: not yet). */
  parsed(chars: number): number {
    this.count += chars;
    if (this.count < this.batch) return 0;
    const n = this.count;
    this.count = 0;
    return n;
  }
}
