// xterm's parser and row renderer, run once on a throwaway terminal while a freshly loaded page is idle.
// Until V8 has optimised them, a page's first flood of output parsed several times slower than its next
// (16 KiB in tens of milliseconds, against under one), and its frames went over 50 ms. The throwaway sits
// hidden in a bay like the spare's; a person's click or key stops it at once (their work comes first).
import { OutputPacer } from './output-pacer.ts';
import { newXterm, openXterm, type Xterm } from './spare-xterm.ts';
import type { ThemeName } from '../state/store.ts';

/** Enough output for V8 to optimise the parse and render loops (measured: bench/terminal-flood.ts). */
const WARM_BYTES = 384 * 1024;
/** Written per idle slice: parsed well within one while cold. */
const PIECE = 8 * 1024;
/** A person's input: it stops the warm-up (a click from the keyboard or a script comes without a pointerdown). */
const INPUT = ['pointerdown', 'keydown', 'click'] as const;
/** An idle slice shorter than this is left to the page. */
const MIN_IDLE_MS = 8;

let started = false;
/** How far the warm-up went (podnetScreens.warm(): the e2e test reads it). */
export const warmState = { done: false, stopped: false, bytes: 0 };

/** What a shell prints: prompts, coloured listings, tables, unicode, long lines that wrap. */
function sample(): Uint8Array {
  const lines: string[] = [];
  for (let i = 0; lines.join('\r\n').length < 64 * 1024; i++) {
    lines.push(
      `root@node1:/# ip -br link show dev veth${i}`,
      `veth${i}@if${i + 2}        UP             aa:bb:cc:${(i % 256).toString(16).padStart(2, '0')}:00:01 <BROADCAST,MULTICAST,UP,LOWER_UP>`,
      `\x1b[0m\x1b[01;34mnet.d\x1b[0m  \x1b[01;32mbridge\x1b[0m  host-local  \x1b[01;36mloopback\x1b[0m  portmap  ${i}`,
      `10.244.${i % 256}.0/24 dev cni0 proto kernel scope link src 10.244.${i % 256}.1 │ ✓ ready ─ ${'0123456789abcdefghijklmnopqrstuvwxyz'.repeat(4)}`,
    );
  }
  return new TextEncoder().encode(`${lines.join('\r\n')}\r\n`);
}

/**
 * Once per page: a throwaway xterm parses and draws WARM_BYTES of shell-like output in the page's idle
 * slices, then goes. Stops for good at a person's first click or key press (a start clicked meanwhile
 * gets the page to itself).
 */
export function warmXtermOnce(theme: ThemeName, bay: (host: HTMLDivElement) => HTMLDivElement): void {
  if (started || typeof requestIdleCallback !== 'function') return;
  started = true;
  const bytes = sample();
  let x: Xterm | undefined;
  let box: HTMLDivElement | undefined;
  let pacer: OutputPacer | undefined;
  const end = () => {
    for (const e of INPUT) removeEventListener(e, stop, true);
    pacer?.dispose();
    x?.term.dispose();
    box?.remove();
    x = undefined;
  };
  const stop = () => {
    warmState.stopped = true;
    end();
  };
  for (const e of INPUT) addEventListener(e, stop, true);
  const slice = (deadline: IdleDeadline) => {
    if (warmState.stopped) return;
    if (deadline.timeRemaining() < MIN_IDLE_MS) return void requestIdleCallback(slice);
    if (!x) {
      x = newXterm(theme);
      box = bay(x.host);
      // not the spare's bay (tests and the page find that one by its class)
      box.className = 'terminal-warm-up';
      document.body.appendChild(box);
      openXterm(x);
      pacer = new OutputPacer(x.term);
      return void requestIdleCallback(slice);
    }
    if (warmState.bytes >= WARM_BYTES) {
      warmState.done = true;
      return end();
    }
    const at = warmState.bytes % bytes.length;
    const piece = bytes.subarray(at, Math.min(bytes.length, at + PIECE));
    warmState.bytes += piece.length;
    // the next slice once this piece is parsed (and the page idle again)
    pacer!.write(piece, () => void (warmState.stopped || requestIdleCallback(slice)));
  };
  requestIdleCallback(slice);
}
