// Two small pieces of a terminal's state that the engine keeps: its recent output (so a page that
// reloads or attaches late shows it again), and input typed before the shell's first prompt.

/** Output kept per terminal: about 5000 lines of 100 characters, xterm's own scrollback. 32 terminals: 16 MiB at most. */
export const SCROLLBACK_BYTES = 512 * 1024;
/** Input waits at most this long for a first prompt (a shell that prints none still gets it). */
export const PROMPT_WAIT_MS = 3000;

/** The last `limit` bytes of a terminal's output, in the pieces it came in. */
export class Scrollback {
  private pieces: Uint8Array[] = [];
  private size = 0;
  private dropped = false;

  constructor(private readonly limit = SCROLLBACK_BYTES) {}

  push(data: Uint8Array): void {
    if (!data.length) return;
    // a copy: the pty's buffers may be views into larger ones that must not be held
    const piece = data.length > this.limit ? data.slice(data.length - this.limit) : data.slice();
    if (piece.length < data.length) this.dropped = true;
    this.pieces.push(piece);
    this.size += piece.length;
    while (this.size > this.limit && this.pieces.length > 1) {
      this.size -= this.pieces.shift()!.length;
      this.dropped = true;
    }
  }

  /**
   * What is kept, as one piece. Once older output was dropped, it starts after the first line break:
   * never inside an escape sequence or a multi-byte character.
   */
  snapshot(): Uint8Array {
    const all = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.pieces) {
      all.set(p, at);
      at += p.length;
    }
    if (!this.dropped) return all;
    const nl = all.indexOf(0x0a);
    return nl < 0 ? new Uint8Array() : all.subarray(nl + 1);
  }

  get bytes(): number {
    return this.size;
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
