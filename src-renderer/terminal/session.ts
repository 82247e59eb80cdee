// One terminal tab's xterm.js instance and its engine terminal. It lives outside React (as VS Code's
// TerminalInstance does): switching tabs or re-rendering never loses the screen. The engine's id
// changes when the shell is reopened; the tab and its scrollback stay. After a page reload the engine's
// copy of the recent output (terminal.scrollback) is shown again before the live output.
import type { FitAddon } from '@xterm/addon-fit';
import type { SearchAddon } from '@xterm/addon-search';
import type { Terminal } from '@xterm/xterm';
import type { PodnetClient } from '../../src-main/api/client.ts';
import type { TerminalInfo, TerminalTarget } from '../../src-main/api/contract.ts';
import { AckCounter, FlowControl } from '../../src-main/terminal/flow-control.ts';
import type { TabState, ThemeName } from '../state/store.ts';
import { OutputPacer } from './output-pacer.ts';
import { newXterm, openXterm, takeSpareXterm, type Xterm } from './spare-xterm.ts';
import { searchDecorations, xtermTheme } from './xterm-theme.ts';

export interface SessionDeps {
  client: PodnetClient;
  theme(): ThemeName;
  /** The tab's id, title or status changed. */
  changed(s: TerminalSession): void;
  /** The session now has an engine id: output that arrived before it may be handed over. */
  bound(s: TerminalSession): void;
  notify(text: string): void;
  /** The size of a terminal already fitted to the same pane, if there is one. */
  sizeHint(): { cols: number; rows: number } | undefined;
  /** Whether a person can see this terminal now (its tab shown, the page visible). */
  visible(): boolean;
}

/** terminal.input takes at most 1 MiB per request: a big paste goes in pieces, in order. */
const INPUT_CHUNK = 64 * 1024;
/** A splitter drag fits on every frame; the pty needs only the size it ends at. */
const RESIZE_DEBOUNCE_MS = 60;

const DIM = '\x1b[2m';
const RED = '\x1b[31m';
const RESET = '\x1b[0m';
/** RIS: xterm's full reset, its scrollback included. */
const FULL_RESET = new TextEncoder().encode('\x1bc');

export function titleOf(target: TerminalTarget): string {
  return target.kind === 'sandbox' ? 'sandbox' : target.kind === 'node' ? target.node : `pod/${target.pod}`;
}

const clamp = (n: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, n));

export class TerminalSession {
  /** xterm's element lives in this div, which React moves into the tab's panel. */
  readonly host: HTMLDivElement;
  readonly term: Terminal;
  private readonly xterm: Xterm;
  private readonly fit: FitAddon;
  private readonly searcher: SearchAddon;
  private acks = new AckCounter();
  private readonly pacer: OutputPacer;
  private starting = false;
  private disposed = false;
  private observer: ResizeObserver | undefined;
  private resizeTimer: ReturnType<typeof setTimeout> | undefined;
  private sentSize = { cols: 0, rows: 0 };
  id: string | null = null;
  title: string;
  status: TabState['status'] = 'opening';
  private markShown!: () => void;
  /** Resolves once the shell's first output has been parsed and drawn (a frame of xterm's after it). */
  readonly firstShown = new Promise<void>((resolve) => (this.markShown = resolve));
  /** Someone has typed in it (a shell the world's start opened by itself is then theirs, not a spare to show). */
  typed = false;
  /** Output arrived while the terminal was not shown: a dead tab that holds some is not closed by itself. */
  unseen = false;
  /** Reattached after a reload or a drop: live output waits until the engine's copy of the earlier output is written. */
  private replaying = false;
  searchResults: { index: number; count: number } | null = null;

  constructor(
    readonly key: string,
    readonly target: TerminalTarget,
    private readonly deps: SessionDeps,
    existing?: TerminalInfo,
  ) {
    this.title = existing?.title ?? titleOf(target);
    // the spare is built, opened and fitted already (in the page's idle time); else one is built now
    this.xterm = takeSpareXterm(deps.theme()) ?? newXterm(deps.theme(), existing ? undefined : deps.sizeHint());
    ({ host: this.host, term: this.term, fit: this.fit, searcher: this.searcher } = this.xterm);
    this.pacer = new OutputPacer(this.term);
    this.term.attachCustomKeyEventHandler((e) => this.keyFilter(e));
    this.term.onData((d) => this.onInput(d));
    this.term.onResize(() => this.scheduleResize());
    this.searcher.onDidChangeResults((r) => {
      this.searchResults = { index: r.resultIndex, count: r.resultCount };
      this.deps.changed(this);
    });
    if (existing) {
      this.replaying = true;
      this.bind(existing);
      void this.replay(existing);
    } else {
      // the shell is asked for now, before React renders the new tab (in a page's first start, a busy
      // engine would read a later request only after its own start): at the spare's size, which is the
      // pane's once a terminal has been shown, else another terminal's or xterm's default; the pane's
      // own size follows at once when it differs (the prompt waits for no frame)
      void this.start();
    }
  }

  /** Puts xterm into `parent` and keeps it fitted to it. */
  mount(parent: HTMLElement): void {
    if (this.host.parentElement !== parent) parent.appendChild(this.host);
    this.observer?.disconnect();
    this.observer = new ResizeObserver(() => this.layout());
    this.observer.observe(parent);
    this.layout();
  }

  unmount(): void {
    this.observer?.disconnect();
    this.observer = undefined;
  }

  /** The visible rows as text, read from xterm's buffer (whatever renderer draws them). */
  screenText(): string {
    const b = this.term.buffer.active;
    const rows: string[] = [];
    for (let y = b.viewportY; y < b.viewportY + this.term.rows; y++)
      rows.push(b.getLine(y)?.translateToString(true) ?? '');
    return rows.join('\n');
  }

  /** Every row of the buffer as text, scrollback included (wrapped rows joined). */
  bufferText(): string {
    const b = this.term.buffer.active;
    const rows: string[] = [];
    for (let y = 0; y < b.length; y++) {
      const line = b.getLine(y);
      if (!line) continue;
      const text = line.translateToString(true);
      if (line.isWrapped && rows.length) rows[rows.length - 1] += text;
      else rows.push(text);
    }
    return rows.join('\n');
  }

  /** Fits xterm to its pane; the first time the pane has a size, xterm opens (its shell is already starting). */
  layout(): void {
    if (this.disposed || !this.host.isConnected || this.host.clientWidth === 0 || this.host.clientHeight === 0) return;
    openXterm(this.xterm);
    try {
      this.fit.fit();
    } catch {
      /* not measurable yet (fonts loading): the next resize fits */
    }
    if (this.id === null && this.status === 'opening') void this.start();
  }

  /** The size xterm has been fitted to; undefined until it has been laid out once. */
  get fittedSize(): { cols: number; rows: number } | undefined {
    return this.xterm.opened ? { cols: this.term.cols, rows: this.term.rows } : undefined;
  }

  focus(): void {
    if (this.xterm.opened) this.term.focus();
  }

  setTheme(name: ThemeName): void {
    this.term.options.theme = xtermTheme(name);
  }

  /** Output from the engine. Acked only once xterm has parsed it: that is what flow control measures. */
  write(data: Uint8Array): void {
    // everything that arrives before the engine's copy is part of it
    if (this.replaying) return;
    if (!this.unseen && !this.deps.visible()) {
      this.unseen = true;
      this.deps.changed(this);
    }
    const id = this.id;
    const acks = this.acks;
    this.pacer.write(data, (bytes) => {
      if (!this.shown) this.noteShown();
      const n = acks.parsed(bytes);
      if (n > 0 && id && id === this.id) void this.deps.client.call('terminal.ack', { id, bytes: n }).catch(() => {});
    });
  }

  private shown = false;
  /** The first output is parsed: shown once xterm has drawn a frame with it (right away if it draws none). */
  private noteShown(): void {
    this.shown = true;
    if (!this.xterm.opened) return this.markShown();
    const sub = this.term.onRender(() => {
      sub.dispose();
      // after the frame's paint, not inside it: what waits for this draws in a frame of its own
      setTimeout(() => this.markShown(), 0);
    });
  }

  /** Frames drawn, flood holds, and xterm's per-line calls deferred while held (the benchmark and tests read them). */
  get paceStats(): { frames: number; holds: number; batched: number; deferred: number } {
    return { ...this.pacer.stats };
  }

  /** A person has seen the terminal (its tab was shown). */
  seen(): void {
    if (!this.unseen) return;
    this.unseen = false;
    this.deps.changed(this);
  }

  exited(code: number | null, signal: number | null): void {
    const how = code !== null ? `exited with code ${code}` : `was ended by signal ${signal ?? '?'}`;
    this.markExited(`${DIM}[shell ${how} — press Enter to reopen]${RESET}`);
  }

  /** The engine's terminal is gone without an exit event (the world stopped, or it was not found). */
  ended(why: string): void {
    if (this.status === 'exited') return;
    this.id = null;
    this.markExited(`${DIM}[${why} — press Enter to reopen]${RESET}`);
  }

  async reopen(): Promise<void> {
    if (this.status !== 'exited' || this.starting || this.disposed) return;
    const old = this.id;
    this.id = null;
    // the old terminal stays listed after its exit until closed: release it
    if (old) void this.deps.client.call('terminal.close', { id: old }).catch(() => {});
    this.status = 'opening';
    // behind the exit's line, which waits for the pacer's queue (markExited)
    this.pacer.after(() => this.term.write(`${DIM}[a new shell on ${this.title}]${RESET}\r\n`));
    this.deps.changed(this);
    await this.start();
  }

  close(): void {
    if (this.disposed) return;
    this.disposed = true;
    clearTimeout(this.resizeTimer);
    if (this.id) void this.deps.client.call('terminal.close', { id: this.id }).catch(() => {});
    this.unmount();
    this.pacer.dispose();
    this.term.dispose();
    this.host.remove();
  }

  hasSelection(): boolean {
    return this.term.hasSelection();
  }

  async copySelection(): Promise<void> {
    const text = this.term.getSelection();
    if (!text) return;
    // The copy command, fed from a one-off copy listener, needs only the key press that asked for it;
    // the async clipboard API needs a permission the Electron host never grants, so it comes second.
    const put = (e: ClipboardEvent) => {
      e.clipboardData?.setData('text/plain', text);
      e.preventDefault();
    };
    document.addEventListener('copy', put, { once: true });
    const copied = document.execCommand('copy');
    document.removeEventListener('copy', put);
    if (copied) return;
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      this.deps.notify(`Could not copy to the clipboard: ${(e as Error).message}`);
    }
  }

  async pasteFromClipboard(): Promise<void> {
    try {
      const text = await navigator.clipboard.readText();
      if (text) this.term.paste(text);
    } catch (e) {
      this.deps.notify(`Could not read the clipboard (use Ctrl+Shift+V in the terminal): ${(e as Error).message}`);
    }
  }

  find(query: string, direction: 'next' | 'previous', incremental = false): boolean {
    const opts = { decorations: searchDecorations(this.deps.theme()), incremental };
    return direction === 'next' ? this.searcher.findNext(query, opts) : this.searcher.findPrevious(query, opts);
  }

  clearSearch(): void {
    this.searcher.clearDecorations();
    this.term.clearSelection();
    this.searchResults = null;
    this.deps.changed(this);
  }

  private bind(info: TerminalInfo): void {
    this.id = info.id;
    this.title = info.title;
    this.status = 'live';
    this.acks = new AckCounter();
    this.sentSize = { cols: this.term.cols, rows: this.term.rows };
    this.deps.changed(this);
    this.deps.bound(this);
  }

  /**
   * The connection to the engine is back after a drop: what the shell printed meanwhile never arrived,
   * so the screen is drawn again from the engine's copy, as after a reload (live output waits for it).
   */
  reconnected(): void {
    if (this.disposed || this.status !== 'live' || !this.id || this.replaying) return;
    this.replaying = true;
    void this.replay({ id: this.id, title: this.title, exited: false }, true);
  }

  /**
   * After a reload or a drop: the engine's copy of the earlier output, then live output. The copy is taken
   * when the engine answers, and output it sent before that answer is in it (one ordered socket).
   * `redraw`: this xterm already shows output from before the drop, so the copy replaces it.
   */
  private async replay(existing: Pick<TerminalInfo, 'id' | 'title' | 'exited'>, redraw = false): Promise<void> {
    const { client } = this.deps;
    // Output sent while no view listened was never acked: clear the engine's count (as VS Code's
    // clearUnacknowledgedChars does on reconnect), or a paused pty would never resume.
    void client.call('terminal.ack', { id: existing.id, bytes: FlowControl.HighWatermarkBytes }).catch(() => {});
    try {
      const { data } = await client.call('terminal.scrollback', { id: existing.id });
      if (this.disposed || existing.id !== this.id) return;
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      if (redraw) {
        // behind what is still queued from before the drop: a full reset (RIS: the scrollback too), then the copy
        this.pacer.write(FULL_RESET, () => {});
        if (bytes.length) this.pacer.write(bytes, () => {});
      } else if (bytes.length) this.term.write(bytes);
    } catch {
      // after a drop, a terminal that is gone is marked so by the list read on reconnect
      if (!redraw)
        this.term.write(`${DIM}[reattached to ${existing.title}: its earlier output could not be read]${RESET}\r\n`);
    } finally {
      this.replaying = false;
    }
    if (existing.exited) this.markExited(`${DIM}[shell exited — press Enter to reopen]${RESET}`);
  }

  private async start(): Promise<void> {
    if (this.starting || this.disposed || this.id !== null) return;
    this.starting = true;
    try {
      const cols = clamp(this.term.cols, 2, 1000);
      const rows = clamp(this.term.rows, 1, 500);
      const info = await this.deps.client.call('terminal.open', { target: this.target, cols, rows });
      if (this.disposed) {
        void this.deps.client.call('terminal.close', { id: info.id }).catch(() => {});
        return;
      }
      this.bind(info);
      this.sentSize = { cols, rows };
      // laid out while the shell opened: its size now, not after a splitter drag's pause
      this.sendSize();
    } catch (e) {
      if (this.disposed) return;
      this.markExited(
        `${RED}[could not open a terminal on ${titleOf(this.target)}: ${(e as Error).message}]${RESET}\r\n${DIM}[press Enter to try again]${RESET}`,
      );
    } finally {
      this.starting = false;
    }
  }

  private markExited(line: string): void {
    this.status = 'exited';
    // on a line of its own, without a blank line before it when the shell already ended one; the
    // cursor is known only once xterm has parsed what came before, the pacer's queue included
    this.pacer.after(() => this.term.write(`${this.term.buffer.active.cursorX > 0 ? '\r\n' : ''}${line}\r\n`));
    this.deps.changed(this);
  }

  private onInput(data: string): void {
    this.typed = true;
    if (this.status === 'exited') {
      if (data.includes('\r')) void this.reopen();
      return;
    }
    const id = this.id;
    if (this.status !== 'live' || !id) return; // nothing to type into while the shell opens
    for (let i = 0; i < data.length; i += INPUT_CHUNK) {
      void this.deps.client.call('terminal.input', { id, data: data.slice(i, i + INPUT_CHUNK) }).catch(() => {});
    }
  }

  private scheduleResize(): void {
    clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(() => this.sendSize(), RESIZE_DEBOUNCE_MS);
  }

  /** Tells the pty xterm's size, if it changed since last told. */
  private sendSize(): void {
    clearTimeout(this.resizeTimer);
    const { cols, rows } = this.term;
    if (!this.id || this.status !== 'live' || (cols === this.sentSize.cols && rows === this.sentSize.rows)) return;
    this.sentSize = { cols, rows };
    void this.deps.client
      .call('terminal.resize', { id: this.id, cols: clamp(cols, 2, 1000), rows: clamp(rows, 1, 500) })
      .catch(() => {});
  }

  /** Keys xterm must leave alone. Returning false lets the browser act (its own paste) and xterm skip them. */
  private keyFilter(e: KeyboardEvent): boolean {
    if (e.type !== 'keydown') return true;
    const ctrlShift = e.ctrlKey && e.shiftKey && !e.altKey && !e.metaKey;
    // Ctrl+Shift+V: the browser's own paste event reaches xterm, no clipboard permission needed.
    // Ctrl+Shift+C: copy is the workspace's command; without a selection it does nothing, as in GNOME Terminal.
    if (ctrlShift && (e.code === 'KeyV' || e.code === 'KeyC')) return false;
    return true;
  }
}
