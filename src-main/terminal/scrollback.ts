// Two small pieces of a terminal's state that the engine keeps: its recent output (so a page that
// reloads or attaches late shows it again), and input typed before the shell's first prompt.

/** Output kept per terminal: about 5000 lines of 100 characters, xterm's own scrollback. 32 terminals: 16 MiB at most. */
export const SCROLLBACK_BYTES = 512 * 1024;
/** Input waits at most this long for a first prompt (a shell that prints none still gets it). */
export const PROMPT_WAIT_MS = 3000;

/**
 * The last `limit` bytes of a terminal's output, in a ring that grows to `limit` and is then reused:
 * a flood's every piece is copied in, never allocated anew (the engine's garbage under a flood).
 */
export class Scrollback {
  private ring = new Uint8Array(0);
  /** Where the oldest kept byte is in the ring. */
  private start = 0;
  private size = 0;
  private dropped = false;

  constructor(private readonly limit = SCROLLBACK_BYTES) {}

  push(data: Uint8Array): void {
    if (!data.length) return;
    // a copy: the pty's buffers may be views into larger ones that must not be held
    let piece = data;
    if (piece.length > this.limit) {
      piece = piece.subarray(piece.length - this.limit);
      this.dropped = true;
    }
    this.grow(this.size + piece.length);
    const cap = this.ring.length;
    const over = this.size + piece.length - cap;
    if (over > 0) {
      this.start = (this.start + over) % cap;
      this.size -= over;
      this.dropped = true;
    }
    const end = (this.start + this.size) % cap;
    const first = Math.min(piece.length, cap - end);
    this.ring.set(piece.subarray(0, first), end);
    if (first < piece.length) this.ring.set(piece.subarray(first), 0);
    this.size += piece.length;
  }

  /**
   * What is kept, as one piece. Once older output was dropped, it starts after the first line break:
   * never inside an escape sequence or a multi-byte character.
   */
  snapshot(): Uint8Array {
    const all = this.ordered();
    if (!this.dropped) return all;
    const nl = all.indexOf(0x0a);
    return nl < 0 ? new Uint8Array() : all.subarray(nl + 1);
  }

  get bytes(): number {
    return this.size;
  }

  /** The kept bytes in order, as a new array. */
  private ordered(): Uint8Array {
    const out = new Uint8Array(this.size);
    const first = Math.min(this.size, this.ring.length - this.start);
    out.set(this.ring.subarray(this.start, this.start + first));
    out.set(this.ring.subarray(0, this.size - first), first);
    return out;
  }

  /** Room for `bytes` (at most the limit): doubles, so a quiet terminal holds little. */
  private grow(bytes: number): void {
    if (bytes <= this.ring.length || this.ring.length === this.limit) return;
    const next = new Uint8Array(Math.min(this.limit, Math.max(bytes, 2 * this.ring.length, 4096)));
    next.set(this.ordered());
    this.ring = next;
    this.start = 0;
  }
}

/**
 * Holds a new shell's input until it has printed its first prompt. Typed earlier, a line is echoed
 * twice: by the pty's line discipline while the shell starts, and again by readline once it reads it.
 */
export class PromptGate {
  private held: string[] | undefined = [];
  private tail = '';
  private readonly timer: ReturnType<typeof setTimeout>;

  constructor(
    private readonly write: (data: string) => void,
    waitMs = PROMPT_WAIT_MS,
  ) {
    this.timer = setTimeout(() => this.open(), waitMs);
  }

  input(data: string): void {
    if (this.held) this.held.push(data);
    else this.write(data);
  }

  /** The shell's output: a prompt (it ends in "# " or "$ ") opens the gate. */
  output(data: Uint8Array): void {
    if (!this.held) return;
    // the end of what came so far, as Latin-1: enough to see a prompt's last characters
    const end = data.subarray(Math.max(0, data.length - 16));
    this.tail = (this.tail + String.fromCharCode(...end)).slice(-16);
    if (/[#$] $/.test(this.tail)) this.open();
  }

  get isOpen(): boolean {
    return !this.held;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.held = undefined;
  }

  private open(): void {
    clearTimeout(this.timer);
    const held = this.held;
    this.held = undefined;
    if (held?.length) this.write(held.join(''));
  }
}
