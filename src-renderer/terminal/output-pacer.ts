// Feeds a terminal's output to xterm one piece at a time, and during a flood (more than ~2.5 MB/s)
// shows the screen four times a second instead of on every frame.
//
// Why: with the DOM renderer (no GPU), redrawing the rows, the scrollbar and the selection layer on
// every frame while `yes` or `cat` scrolls cost more than parsing the bytes: a flood ran at a third of
// its speed and starved the page. Nobody reads a flood at 60 frames a second. The holds use the
// terminal's own synchronized output mode (DEC private mode 2026): xterm keeps parsing, and defers
// drawing and, since 6.1, its viewport's DOM updates too (xterm.js PR #5770). When output pauses for
// QUIET_MS the held screen is drawn at once. A program that uses mode 2026 itself is left alone.
import type { Terminal } from '@xterm/xterm';

/**
 * Bytes per xterm write. xterm yields to the browser between writes once 12 ms have passed, so a piece
 * bounds a stall: 16 KiB parse in under a millisecond warm, and in tens while xterm's parser is still
 * cold (the first flood of a page: 64 KiB pieces made frames of 100 ms there).
 */
export const WRITE_PIECE = 16 * 1024;
/** How long the screen is held during a flood before one frame shows it (a quarter of a second). */
export const HOLD_MS = 250;
/** A flood: this much output within FLOOD_WINDOW_MS (about 2.5 MB/s — far faster than anyone reads). */
const FLOOD_BYTES = 256 * 1024;
const FLOOD_WINDOW_MS = 100;
/** Bytes waiting for xterm that make a flood even below FLOOD_BYTES' rate: drawing more would only slow it. */
const BACKLOG_BYTES = 128 * 1024;
/** Output that pauses this long ends the flood: what was held is drawn at once. */
const QUIET_MS = 30;
/**
 * A piece at least this big, outside a hold, is parsed with xterm's per-line calls deferred to its end:
 * xterm syncs its scrollbar on every line it scrolls (a DOM update, and a timer set and cleared to hide
 * the bar again), which made most of a flood's cost before the flood was noticed (frames of 40–80 ms in a
 * page's first). Frames are drawn as usual meanwhile: holding them (mode 2026) for each piece left the
 * screen before a `clear` on show while pieces followed each other.
 */
const BATCH_BYTES = 4 * 1024;
/** A released hold waits at most this long for its frame (a hidden page draws none). */
const FRAME_WAIT_MS = 50;
/**
 * While a released hold waits for its frame, xterm gets pieces this big, each in a task of its own: the page
 * keeps parsing (it sat idle up to a frame at each release), and the frame, once due, runs between two
 * pieces (a few tenths of a millisecond of parsing warm).
 */
const FRAME_DUE_PIECE = 16 * 1024;

/** Runs `fn` in a task of its own, at once: a message to self (a timer nested in xterm's parse timers waits 4 ms or more). */
const ownTasks: (() => void)[] = [];
let ownTaskChannel: MessageChannel | undefined;
function inATaskOfItsOwn(fn: () => void): void {
  if (!ownTaskChannel) {
    ownTaskChannel = new MessageChannel();
    ownTaskChannel.port2.onmessage = () => ownTasks.shift()?.();
  }
  ownTasks.push(fn);
  ownTaskChannel.port1.postMessage(null);
}

const BEGIN_SYNC = '\x1b[?2026h';
const END_SYNC = '\x1b[?2026l';
/** "ESC [ ? 2026" as bytes: the program itself asks for synchronized output. */
const SYNC_MODE = [0x1b, 0x5b, 0x3f, 0x32, 0x30, 0x32, 0x36];

/** Output waiting for xterm; `parsed` is told how many of the piece's bytes xterm has parsed. */
interface Piece {
  bytes: Uint8Array;
  parsed: (bytes: number) => void;
}

export class OutputPacer {
  private readonly queue: Piece[] = [];
  private queuedBytes = 0;
  private writing = false;
  private holding = false;
  private holdSince = 0;
  /** A release was written: the next hold waits until xterm has drawn a frame. */
  private awaitingFrame = false;
  /** The program uses mode 2026 itself: its holds are its own, ours would break them. */
  private programSyncs = false;
  private flooding = false;
  private windowStart = 0;
  private windowBytes = 0;
  private lastArrival = 0;
  private watching = false;
  /** xterm's per-line calls are deferred while held (deferWhileHeld), and made by these at the release. */
  private readonly onRelease: (() => void)[] = [];
  private deferring = false;
  /** A big piece is being parsed (BATCH_BYTES): xterm's per-line calls wait until its end, as while held. */
  private batching = false;
  /** A hold was released: until the frame that draws it, pieces go to xterm one task at a time. */
  private waitingForFrame = false;
  private disposed = false;
  private readonly renderSub: { dispose(): void };
  /** Frames xterm drew, holds begun, big pieces batched, and xterm's per-line calls deferred (found, of 4). */
  readonly stats = { frames: 0, holds: 0, batched: 0, deferred: 0, piecesWhileFrameDue: 0 };

  constructor(private readonly term: Terminal) {
    this.renderSub = term.onRender(() => {
      this.stats.frames++;
      this.awaitingFrame = false;
    });
  }

  /**
   * xterm asks the browser for work on every line it scrolls, even while the screen is held: it moves
   * its hidden input box (the textarea where an IME composes) to the cursor, and asks for an animation
   * frame to redraw the selection and to sync its scrollbar; outside a hold it syncs the scrollbar at
   * once (_viewport._sync). Each makes the browser run a frame (style, layout, paint, composite) for
   * nothing, 60 times a second through a flood. While held, or while a big piece is parsed, those calls
   * wait; the release, or the piece's end, makes each once. This reaches into xterm 6.1's internals
   * (CoreBrowserTerminal's _syncTextArea, _selectionService.refresh, _viewport.queueSync and _sync; they
   * exist once xterm is opened): a missing one is left alone, and stats.deferred counts those found (the
   * e2e test expects all four).
   */
  private deferWhileHeld(): void {
    if (this.deferring) return;
    type Owner = Record<string, unknown> | undefined;
    const core = (this.term as unknown as { _core?: Record<string, Owner> })._core;
    if (!core?._viewport) return; // not opened yet
    this.deferring = true;
    const defer = (owner: Owner, name: string) => {
      const found = owner?.[name];
      if (!owner || typeof found !== 'function') return;
      const call = found as (...args: unknown[]) => unknown;
      let asked = false;
      // only the argument-less calls (the per-line ones): any other passes at once
      owner[name] = (...args: unknown[]) => {
        if (!(this.holding || this.batching) || args.length) return call.apply(owner, args);
        asked = true;
      };
      this.onRelease.push(() => {
        if (asked) call.call(owner);
        asked = false;
      });
      this.stats.deferred++;
    };
    defer(core, '_syncTextArea');
    defer(core._selectionService, 'refresh');
    defer(core._viewport, 'queueSync');
    defer(core._viewport, '_sync');
  }

  /** Queues output; `parsed` runs once per piece, after xterm has parsed it (what flow control acks). */
  write(data: Uint8Array, parsed: (bytes: number) => void): void {
    if (this.disposed) return;
    if (!this.programSyncs && mentionsSyncMode(data)) {
      this.programSyncs = true;
      this.release();
    }
    this.measure(data.length);
    // output waiting behind output: it comes faster than xterm parses, whatever the rate (a loaded machine)
    if (this.queuedBytes >= BACKLOG_BYTES) this.flooding = true;
    for (let i = 0; i < data.length; i += WRITE_PIECE) {
      // a piece may end inside a multi-byte character: xterm's UTF-8 decoder carries it to the next
      const bytes = data.length <= WRITE_PIECE ? data : data.subarray(i, i + WRITE_PIECE);
      this.queue.push({ bytes, parsed });
      this.queuedBytes += bytes.length;
    }
    if (!this.writing) this.next();
  }

  /** Runs `fn` once xterm has parsed everything queued before it (a line of the app's own, after the output). */
  after(fn: () => void): void {
    if (this.disposed) return;
    this.queue.push({ bytes: new Uint8Array(0), parsed: fn });
    if (!this.writing) this.next();
  }

  dispose(): void {
    this.disposed = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.renderSub.dispose();
  }

  /** Hands xterm the next piece; the callback runs inside xterm's parse loop, so the next follows without a yield. */
  private next(): void {
    if (this.disposed) return;
    if (!this.queue.length) {
      this.writing = false;
      return;
    }
    this.writing = true;
    if (this.waitingForFrame) return this.feedWhileFrameDue();
    if (this.pace() === 'release first') return this.releaseInATaskOfItsOwn();
    this.writePiece(this.queue.shift()!);
  }

  /** One piece to xterm; once parsed, it is acked and the next follows. */
  private writePiece(piece: Piece): void {
    this.queuedBytes -= piece.bytes.length;
    const batched = piece.bytes.length >= BATCH_BYTES && !this.holding;
    if (batched) {
      this.deferWhileHeld();
      this.batching = true;
      this.stats.batched++;
    }
    this.term.write(piece.bytes, () => {
      // xterm's per-line calls, once for the piece: its lines scroll by faster than anyone reads them
      if (batched) this.endBatch();
      piece.parsed(piece.bytes.length);
      this.next();
    });
  }

  /**
   * One piece of at most FRAME_DUE_PIECE bytes, in a task of its own, while a released hold waits for its frame.
   * Called from next() only, as any piece is: one piece or one such task at a time, as ever.
   */
  private feedWhileFrameDue(): void {
    inATaskOfItsOwn(() => {
      if (this.disposed) return;
      // the frame came meanwhile: the usual path
      if (!this.waitingForFrame || !this.queue.length) return this.next();
      const head = this.queue[0]!;
      let piece = head;
      if (head.bytes.length > FRAME_DUE_PIECE) {
        piece = { bytes: head.bytes.subarray(0, FRAME_DUE_PIECE), parsed: head.parsed };
        head.bytes = head.bytes.subarray(FRAME_DUE_PIECE);
      } else this.queue.shift();
      this.stats.piecesWhileFrameDue++;
      this.writePiece(piece);
    });
  }

  /** After a big piece: xterm's per-line calls deferred meanwhile are made once. */
  private endBatch(): void {
    this.batching = false;
    if (!this.holding) this.makeDeferred();
  }

  /**
   * After a hold's release, until the frame that shows it, xterm gets one small piece per task
   * (feedWhileFrameDue), each batched, not its 12 ms slices of parsing: the frame would wait behind
   * those (a long animation frame). The frame needs the main thread for a few milliseconds; a hidden
   * page draws none, so a timer goes on without it.
   */
  private waitForFrame(): void {
    this.waitingForFrame = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let frame = 0;
    const go = () => {
      clearTimeout(timer);
      cancelAnimationFrame(frame);
      // the pieces fed meanwhile go on by themselves: the next one after this takes the usual path
      this.waitingForFrame = false;
    };
    // END_SYNC is parsed by then: xterm asked for its frame first, so this callback runs after its rows are drawn
    this.term.write('', () => {
      frame = requestAnimationFrame(go);
      timer = setTimeout(go, FRAME_WAIT_MS);
      this.next();
    });
  }

  /** The output rate, over windows of FLOOD_WINDOW_MS. */
  private measure(bytes: number): void {
    const now = performance.now();
    // output that paused QUIET_MS ended the flood, held or not: a key's echo just after one starts afresh
    if (now - this.lastArrival >= QUIET_MS) {
      this.flooding = false;
      this.windowStart = now;
      this.windowBytes = 0;
    }
    this.lastArrival = now;
    if (now - this.windowStart > FLOOD_WINDOW_MS) {
      this.flooding = this.windowBytes >= FLOOD_BYTES && now - this.windowStart < 2 * FLOOD_WINDOW_MS;
      this.windowStart = now;
      this.windowBytes = 0;
    }
    this.windowBytes += bytes;
    if (this.windowBytes >= FLOOD_BYTES) this.flooding = true;
  }

  /**
   * A hold that lasted HOLD_MS is released in a task of its own. Released here, inside xterm's parse loop,
   * its frame began with that loop's 12 ms or more of parsing: one frame of parse, xterm's row building
   * and the rows' layout and paint together went over 50 ms.
   */
  private releaseInATaskOfItsOwn(): void {
    this.waitingForFrame = true;
    inATaskOfItsOwn(() => {
      if (this.disposed) return;
      this.release();
      this.waitForFrame();
    });
  }

  /** Before a piece: during a flood, hold the screen until HOLD_MS have passed, then let one frame through. */
  private pace(): 'go' | 'release first' {
    if (this.programSyncs) return 'go';
    if (this.holding) return performance.now() - this.holdSince < HOLD_MS ? 'go' : 'release first';
    if (this.flooding && !this.awaitingFrame && !this.term.modes.synchronizedOutputMode) {
      this.deferWhileHeld();
      this.term.write(BEGIN_SYNC);
      this.holding = true;
      this.holdSince = performance.now();
      this.stats.holds++;
      this.watch();
    }
    return 'go';
  }

  /**
   * While the screen is held, a timer asks: has the flood stopped, or has the hold lasted long enough
   * with nothing to parse? A timer, not animation frames: a held screen asks the browser for no frame.
   */
  private watch(): void {
    if (this.watching) return;
    this.watching = true;
    const tick = () => {
      if (this.disposed || !this.holding) {
        this.watching = false;
        return;
      }
      const now = performance.now();
      // a pause with output still waiting is the pty held back by flow control, not the flood's end
      if (now - this.lastArrival >= QUIET_MS && this.queuedBytes < BACKLOG_BYTES) this.flooding = false;
      // idle between pieces: nothing else would end the hold
      if (!this.flooding || (!this.writing && now - this.holdSince >= HOLD_MS)) {
        this.release();
        this.watching = false;
        return;
      }
      setTimeout(tick, QUIET_MS / 2);
    };
    setTimeout(tick, QUIET_MS / 2);
  }

  private release(): void {
    if (!this.holding) return;
    this.term.write(END_SYNC);
    this.holding = false;
    this.awaitingFrame = true;
    this.makeDeferred();
  }

  /** xterm's per-line calls deferred while held or batched, each made once. */
  private makeDeferred(): void {
    for (const made of this.onRelease) made();
  }
}

function mentionsSyncMode(data: Uint8Array): boolean {
  for (let i = data.indexOf(0x1b); i !== -1; i = data.indexOf(0x1b, i + 1)) {
    let j = 1;
    while (j < SYNC_MODE.length && data[i + j] === SYNC_MODE[j]) j++;
    if (j === SYNC_MODE.length) return true;
  }
  return false;
}
