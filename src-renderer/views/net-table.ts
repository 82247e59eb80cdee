// One live table's DOM, kept by hand: a diff's rows are written into the body in the diff's own task,
// before React draws anything (React's render and commit of the views were ~0.8 ms of each change's ~1.4 in
// the page, more than the rows themselves). It keeps what the React table did: the flash of a row that
// appeared or changed, rows that went struck through, the peer column, focus from the topology, and for a
// long table only the rows near the view.
import type { Keyed } from '../../src-main/netview/keyed.ts';
import { COLUMNS, isLearned, shownFilter, shownRows, type Column, type Row } from './net-rows.ts';
import type { NetviewState, NetviewStore, TableName } from './netview-store.ts';

type ShownRow = { key: string; row: Row<TableName>; ghost: boolean };

/** Above this many rows a table draws only the rows near the view: a diff then costs the rows on screen, not the table. */
export const WINDOW_FROM = 60;
/** Drawn beyond the view on either side, so a scroll shows rows already laid out. */
const OVERSCAN_PX = 600;
/** The window moves in steps of this much scrolling, not on every scroll frame. */
const SCROLL_STEP_PX = 200;
/** A row's height before any is measured (one line of the table's font). */
const ROW_GUESS_PX = 19;

/** A row drawn: what it was drawn from, so the next draw keeps it when nothing of it changed. */
interface Drawn {
  tr: HTMLTableRowElement;
  row: Row<TableName>;
  /** The generation of the mark it flashed for (0: none): a new mark draws a new row, which restarts the flash. */
  gen: number;
  peer: string;
  /** Its aria-rowindex in a long table drawn in part (0: none). */
  rowIndex: number;
}

/** The nearest ancestor that scrolls up and down (the table's own wrap scrolls sideways only: its overflow-y computes to auto). */
function scrollerOf(el: HTMLElement): HTMLElement | null {
  for (let p = el.parentElement; p; p = p.parentElement) {
    if (p.classList.contains('nv-table-wrap')) continue;
    const o = getComputedStyle(p).overflowY;
    if (o === 'auto' || o === 'scroll') return p;
  }
  return null;
}

export class NetTableView {
  readonly el: HTMLTableElement;
  private readonly body: HTMLTableSectionElement;
  private readonly cols: Column<TableName>[];
  private readonly spacers: { above: HTMLTableRowElement; below: HTMLTableRowElement };
  private readonly unsubscribe: () => void;
  /** What the last draw was made from: a change to none of it draws nothing. */
  private seen: {
    live: Keyed<Row<TableName>>[];
    ghosts: unknown;
    family: NetviewState['family'];
    routeTables: NetviewState['routeTables'];
    marks: NetviewState['marks'];
    focus: NetviewState['focus'];
  } | null = null;
  private shown: ShownRow[] = [];
  private drawn = new Map<string, Drawn>();
  /** The focus request last scrolled to: each is acted on once. */
  private focusedFor: NetviewState['focus'] = null;

  // a long table's window: the scroller's top (in steps) and height, the body's top inside it, rows' heights
  private windowed = false;
  private scroller: HTMLElement | null = null;
  private view = { step: 0, height: 800, bodyTop: 0 };
  private heights = new Map<string, number>();
  private guess = ROW_GUESS_PX;
  private offsets: number[] = [0];
  /** The rows drawn last, [from, to) of `shown`. */
  private range = { from: 0, to: 0 };
  private scrollFrame = 0;
  private measureFrame = 0;
  private resize: ResizeObserver | null = null;
  /** The peers of links that went, by index, while their rows are struck through. */
  private readonly formerPeers = new Map<number, string>();

  constructor(
    host: HTMLElement,
    private readonly store: NetviewStore,
    private readonly table: TableName,
    title: string,
    /** The links' peers as the topology names them (setPeers when they change). */
    private peers: Map<number, string>,
  ) {
    this.cols = COLUMNS[table];
    this.el = document.createElement('table');
    this.el.className = 'nv-table';
    this.el.dataset.testid = `nv-table-${table}`;
    this.el.setAttribute('aria-label', title);
    const head = this.el.createTHead().insertRow();
    for (const c of this.cols) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.title = `ip -json: ${c.col}`;
      th.textContent = c.title;
      head.append(th);
    }
    this.body = this.el.createTBody();
    const spacer = (where: string) => {
      const tr = document.createElement('tr');
      tr.className = 'nv-spacer';
      tr.setAttribute('aria-hidden', 'true');
      tr.dataset.spacer = where;
      tr.insertCell().colSpan = this.cols.length;
      return tr;
    };
    this.spacers = { above: spacer('above'), below: spacer('below') };
    host.append(this.el);
    // ahead of React's listeners: the rows are in the page before anything React draws for the same change
    this.unsubscribe = store.subscribeFirst(() => this.update());
    this.update();
  }

  /** The links' peers as the topology names them (it comes at a lower priority than the rows). */
  setPeers(peers: Map<number, string>): void {
    if (peers === this.peers) return;
    if (this.table !== 'links') return void (this.peers = peers);
    // a link that went keeps the peer it had on its struck-through row (the new names have none for it)
    for (const [index, name] of this.peers) if (!peers.has(index)) this.formerPeers.set(index, name);
    this.peers = peers;
    this.draw();
  }

  dispose(): void {
    this.unsubscribe();
    this.watchScroll(false);
    cancelAnimationFrame(this.measureFrame);
    this.el.remove();
  }

  /** The store changed: draws again only if what this table shows did. */
  private update(): void {
    const s = this.store.get();
    const live = shownRows(this.table, s);
    if (!live) return; // the views say "Reading…" and drop this table
    const ghosts = s.ghosts[this.table];
    const f = this.seen;
    const rowsMoved =
      !f || f.live !== live || f.ghosts !== ghosts || f.family !== s.family || f.routeTables !== s.routeTables;
    if (!rowsMoved && f.marks === s.marks && f.focus === s.focus) return;
    if (rowsMoved) {
      const shown = shownFilter(this.table, s.family, s.routeTables, s.tables);
      this.shown = [
        ...live.map((r) => ({ key: r.key, row: r.row, ghost: false })),
        ...((ghosts ?? []) as Keyed<Row<TableName>>[])
          .filter(shown)
          .map((r) => ({ key: r.key, row: r.row, ghost: true })),
      ];
      if (this.formerPeers.size) {
        const struck = new Set(this.shown.filter((r) => r.ghost).map((r) => (r.row as Row<'links'>).index));
        for (const index of this.formerPeers.keys()) if (!struck.has(index)) this.formerPeers.delete(index);
      }
    }
    this.seen = { live, ghosts, family: s.family, routeTables: s.routeTables, marks: s.marks, focus: s.focus };
    this.draw();
  }

  /** Writes the rows in view into the body: rows unchanged are kept, new ones made, and the order set. */
  private draw(): void {
    const s = this.seen;
    if (!s) return;
    const rows = this.shown;
    const windowed = rows.length > WINDOW_FROM;
    if (windowed !== this.windowed) {
      this.windowed = windowed;
      this.watchScroll(windowed);
    }
    const { from, to } = (this.range = this.window());
    if (windowed) this.el.setAttribute('aria-rowcount', String(rows.length + 1));
    else this.el.removeAttribute('aria-rowcount');

    const focusKey = s.focus?.table === this.table ? s.focus.key : null;
    const want: HTMLTableRowElement[] = [];
    const above = windowed ? this.offsets[from]! : 0;
    const below = windowed ? this.offsets[rows.length]! - this.offsets[to]! : 0;
    if (above > 0) want.push(this.sized(this.spacers.above, above));
    const drawn = new Map<string, Drawn>();
    for (let i = from; i < to; i++) {
      const r = rows[i]!;
      const id = r.ghost ? `${r.key}\u0000gone` : r.key;
      const m = s.marks[`${this.table}|${r.key}`];
      const gen = m && !r.ghost ? m.gen : 0;
      const peer = this.peerOf(r);
      let d = this.drawn.get(id);
      if (!d || d.row !== r.row || d.peer !== peer || (gen !== 0 && gen !== d.gen))
        d = { tr: this.rowOf(r, peer), row: r.row, gen, peer, rowIndex: 0 };
      d.gen = gen;
      const focused = focusKey === r.key && !r.ghost;
      const learned = this.table === 'fdb' && isLearned(r.row as Row<'fdb'>);
      const cls = `${r.ghost ? 'nv-removed' : m && m.mark !== 'removed' ? `nv-${m.mark}` : ''}${learned ? ' nv-learned' : ''}${focused ? ' nv-focus' : ''}`;
      if (d.tr.className !== cls) d.tr.className = cls;
      const tab = focused ? 0 : -1;
      if (d.tr.tabIndex !== tab) d.tr.tabIndex = tab;
      const rowIndex = windowed ? i + 2 : 0;
      if (d.rowIndex !== rowIndex) {
        d.rowIndex = rowIndex;
        if (rowIndex) d.tr.setAttribute('aria-rowindex', String(rowIndex));
        else d.tr.removeAttribute('aria-rowindex');
      }
      drawn.set(id, d);
      want.push(d.tr);
    }
    if (below > 0) want.push(this.sized(this.spacers.below, below));
    this.drawn = drawn;

    const keep = new Set<Element>(want);
    for (let n = this.body.firstElementChild; n;) {
      const next = n.nextElementSibling;
      if (!keep.has(n)) n.remove();
      n = next;
    }
    let at = this.body.firstElementChild;
    for (const tr of want) {
      if (at === tr) at = at.nextElementSibling;
      else this.body.insertBefore(tr, at);
    }
    this.showFocus(focusKey);
    if (windowed && !this.measureFrame) this.measureFrame = requestAnimationFrame(() => this.measure());
  }

  /** A link's peer as the topology names it; a struck-through one's, as it was named while it was there. */
  private peerOf(r: ShownRow): string {
    if (this.table !== 'links') return '';
    const index = (r.row as Row<'links'>).index;
    return (r.ghost ? this.formerPeers.get(index) : undefined) ?? this.peers.get(index) ?? '';
  }

  /** A row as a `tr` of its cells, its key and name on it for the tests and the topology's focus. */
  private rowOf(r: ShownRow, peer: string): HTMLTableRowElement {
    const tr = document.createElement('tr');
    if (!r.ghost) tr.dataset.testid = `nv-row-${this.table}`;
    tr.dataset.key = r.key;
    if (this.table === 'links') tr.dataset.name = (r.row as Row<'links'>).name;
    if (r.ghost) {
      tr.dataset.gone = 'true';
      tr.setAttribute('aria-label', `removed: ${r.key}`);
    }
    const ctx = { peer: (peerIndex?: number) => peer || (peerIndex !== undefined ? `if${peerIndex}` : '') };
    for (const c of this.cols) {
      const td = tr.insertCell();
      td.dataset.col = c.col;
      const text = c.value(r.row, ctx);
      if (!c.breakAtCommas) td.textContent = text;
      else
        text.split(',').forEach((w, i, all) => {
          const last = i === all.length - 1;
          const span = document.createElement('span');
          span.textContent = last ? w : `${w},`;
          td.append(span);
          if (!last) td.append(document.createElement('wbr'));
        });
    }
    return tr;
  }

  private sized(spacer: HTMLTableRowElement, height: number): HTMLTableRowElement {
    const td = spacer.firstElementChild as HTMLTableCellElement;
    const h = `${height}px`;
    if (td.style.height !== h) td.style.height = h;
    return spacer;
  }

  /** A row asked for from the topology: scrolled to and focused once it is drawn (a long table brings it near the view first). */
  private showFocus(focusKey: string | null): void {
    const focus = this.seen?.focus ?? null;
    if (focusKey === null || this.focusedFor === focus) return;
    const d = this.drawn.get(focusKey);
    if (!d) {
      const i = this.shown.findIndex((r) => r.key === focusKey && !r.ghost);
      if (i >= 0 && this.windowed && this.scroller)
        this.scroller.scrollTop = this.view.bodyTop + this.offsets[i]! - this.scroller.clientHeight / 2;
      return;
    }
    this.focusedFor = focus;
    d.tr.scrollIntoView({ block: 'nearest' });
    d.tr.focus({ preventScroll: true });
  }

  /** Which rows to draw: all of a short table; of a long one, those within a screenful or so of the view. */
  private window(): { from: number; to: number } {
    const rows = this.shown;
    if (!this.windowed) return { from: 0, to: rows.length };
    const offsets = (this.offsets = [0]);
    for (const r of rows) offsets.push(offsets[offsets.length - 1]! + (this.heights.get(r.key) ?? this.guess));
    const base = this.view.step * SCROLL_STEP_PX - this.view.bodyTop;
    const top = base - OVERSCAN_PX;
    const bottom = base + this.view.height + SCROLL_STEP_PX + OVERSCAN_PX;
    let from = 0;
    while (from < rows.length && offsets[from + 1]! < top) from++;
    let to = from;
    while (to < rows.length && offsets[to]! < bottom) to++;
    return { from, to };
  }

  private watchScroll(on: boolean): void {
    cancelAnimationFrame(this.scrollFrame);
    this.scrollFrame = 0;
    this.scroller?.removeEventListener('scroll', this.onScroll);
    this.resize?.disconnect();
    this.resize = null;
    this.scroller = on ? scrollerOf(this.body) : null;
    if (!this.scroller) return;
    this.readView();
    this.scroller.addEventListener('scroll', this.onScroll, { passive: true });
    this.resize = new ResizeObserver(this.onScroll);
    this.resize.observe(this.scroller);
  }

  private onScroll = (): void => {
    if (!this.scrollFrame)
      this.scrollFrame = requestAnimationFrame(() => {
        this.scrollFrame = 0;
        if (this.readView()) this.draw();
      });
  };

  /** The view as it is now; true if the rows to draw may have changed. */
  private readView(): boolean {
    const el = this.scroller;
    if (!el) return false;
    const next = {
      step: Math.floor(el.scrollTop / SCROLL_STEP_PX),
      height: el.clientHeight,
      bodyTop: this.body.getBoundingClientRect().top - el.getBoundingClientRect().top + el.scrollTop,
    };
    const v = this.view;
    if (next.step === v.step && next.height === v.height && Math.abs(next.bodyTop - v.bodyTop) < 1) return false;
    this.view = next;
    return true;
  }

  /** The rows drawn are measured in the frame after a draw (their layout is due then anyway); the guess for the rest follows them. */
  private measure(): void {
    this.measureFrame = 0;
    if (!this.windowed) return;
    for (const [, d] of this.drawn) this.heights.set(d.tr.dataset.key!, d.tr.offsetHeight);
    // rows that went are forgotten now and then, not on every draw
    if (this.heights.size > 2 * this.shown.length + WINDOW_FROM) {
      const live = new Set(this.shown.map((r) => r.key));
      for (const k of this.heights.keys()) if (!live.has(k)) this.heights.delete(k);
    }
    const seen = [...this.heights.values()];
    const mean = seen.reduce((a, b) => a + b, 0) / Math.max(1, seen.length);
    const guessMoved = seen.length > 0 && Math.abs(mean - this.guess) > this.guess * 0.15;
    if (guessMoved) this.guess = mean;
    // drawn again only if the rows to draw differ (the spacers' heights follow with the next draw)
    const moved = this.readView();
    const { from, to } = this.window();
    if (guessMoved || moved || from !== this.range.from || to !== this.range.to) this.draw();
  }
}
