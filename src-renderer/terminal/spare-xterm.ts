// A new tab's xterm, built and opened while the page is idle. Building and opening one (its renderer, its
// CSS, the font measured, the first fit) was most of what a new tab cost on the click's path: ~25 ms in a
// warm page, ~60 ms in a page's first, when none of xterm's code had run yet. One spare waits hidden
// and inert, fitted to the size a terminal pane has now; a new tab takes it, and the next is built in the
// page's next idle time.
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { WebglAddon } from '@xterm/addon-webgl';
import { Terminal } from '@xterm/xterm';
import type { ThemeName } from '../state/store.ts';
import { xtermTheme } from './xterm-theme.ts';

/** An xterm with the addons every tab has, and the div it lives in (React moves that into the tab's panel). */
export interface Xterm {
  readonly term: Terminal;
  readonly fit: FitAddon;
  readonly searcher: SearchAddon;
  readonly host: HTMLDivElement;
  /** xterm.open has run on the host (in the spare's bay or in a pane). */
  opened: boolean;
}

/** A pane's size before any has been laid out (the spare's bay when the page has no terminal area). */
const DEFAULT_BAY = { width: 800, height: 480 };

let webglVerdict: boolean | undefined;

/** Whether WebGL here is drawn by a GPU, asked once (it makes a WebGL context: 10–30 ms the first time). */
function hardwareWebgl(): boolean {
  if (webglVerdict !== undefined) return webglVerdict;
  try {
    const gl = document.createElement('canvas').getContext('webgl2');
    const info = gl?.getExtension('WEBGL_debug_renderer_info');
    const renderer = gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
    webglVerdict = !!gl && !/swiftshader|llvmpipe|softpipe|software/i.test(renderer);
    gl?.getExtension('WEBGL_lose_context')?.loseContext();
  } catch {
    webglVerdict = false;
  }
  return webglVerdict;
}

export function newXterm(theme: ThemeName, size?: { cols: number; rows: number }): Xterm {
  const host = document.createElement('div');
  host.className = 'xterm-host';
  const term = new Terminal({
    ...(size ?? {}),
    fontFamily: '"DejaVu Sans Mono", "Liberation Mono", ui-monospace, Menlo, Consolas, monospace',
    fontSize: 13,
    lineHeight: 1.1,
    scrollback: 5000,
    cursorBlink: true,
    // the search addon's match highlights are decorations, still "proposed" API in xterm 6
    allowProposedApi: true,
    theme: xtermTheme(theme),
  });
  const fit = new FitAddon();
  const searcher = new SearchAddon();
  term.loadAddon(fit);
  term.loadAddon(searcher);
  // only web links open, and only in a new browsing context without access back to this page
  term.loadAddon(
    new WebLinksAddon((_e, uri) => {
      if (/^https?:\/\//i.test(uri)) window.open(uri, '_blank', 'noopener,noreferrer');
    }),
  );
  return { term, fit, searcher, host, opened: false };
}

/**
 * xterm.open on its host (which must be in the document), with xterm's GPU renderer where WebGL runs on a
 * GPU (DOM layout was most of the cost under a flood of output). A software WebGL (SwiftShader, llvmpipe) is
 * slower than the DOM renderer: not used.
 */
export function openXterm(x: Xterm): void {
  if (x.opened) return;
  x.term.open(x.host);
  x.opened = true;
  if (!hardwareWebgl()) return;
  try {
    const gl = new WebglAddon();
    // a lost context (driver reset, too many contexts) falls back to the DOM renderer
    gl.onContextLoss(() => gl.dispose());
    x.term.loadAddon(gl);
  } catch {
    /* no WebGL here: the DOM renderer stays */
  }
}

let spare: { x: Xterm; theme: ThemeName } | undefined;
let asked = false;

/**
 * The spare, if one is ready: out of its bay, in the theme asked for. A tab that gets none builds its own
 * (the page had no idle time yet, or requestIdleCallback is missing).
 */
export function takeSpareXterm(theme: ThemeName): Xterm | undefined {
  const s = spare;
  spare = undefined;
  if (!s) return undefined;
  if (s.theme !== theme) s.x.term.options.theme = xtermTheme(theme);
  const bay = s.x.host.parentElement;
  s.x.host.remove();
  bay?.remove();
  return s.x;
}

/** Where the window's margin around the terminal area is remembered (the home page has no area to measure). */
const INSET_KEY = 'podnet.terminalAreaInset';

/**
 * The terminal area's size now; without one on screen (the home page), the window less the margin the
 * area had when it was last measured, so a first start from home finds its spare at the pane's size.
 */
function areaSize(): { width: number; height: number } {
  const area = document.querySelector<HTMLElement>('.terminal-panels');
  if (area?.clientWidth && area.clientHeight) {
    const inset = { w: innerWidth - area.clientWidth, h: innerHeight - area.clientHeight };
    try {
      localStorage.setItem(INSET_KEY, JSON.stringify(inset));
    } catch {
      /* no storage (a private window): the next guess is the default */
    }
    return { width: area.clientWidth, height: area.clientHeight };
  }
  try {
    const inset = JSON.parse(localStorage.getItem(INSET_KEY) ?? 'null') as { w?: unknown; h?: unknown } | null;
    const width = innerWidth - Number(inset?.w);
    const height = innerHeight - Number(inset?.h);
    // a margin from another window size may leave too little: then the default, and the pane's fit
    if (width >= 200 && height >= 100) return { width, height };
  } catch {
    /* nothing remembered, or not readable */
  }
  return DEFAULT_BAY;
}

/** A tab that took the spare has the next built once its first output is shown, or this long after. */
const REFILL_WAIT_MS = 1000;

/**
 * Builds a spare in the page's idle time, unless one is ready or asked for. After a page's load (`timeout`
 * given) it comes by then even if the page is never idle, ready before a person's first click; after a tab
 * took one (`after`: that tab's first output shown), not before the new tab's prompt is on screen.
 */
export function keepSpareXterm(theme: () => ThemeName, when: { timeout: number } | { after: Promise<unknown> }): void {
  if (spare || asked || typeof requestIdleCallback !== 'function') return;
  asked = true;
  const build = () =>
    requestIdleCallback(
      () => {
        asked = false;
        if (spare) return;
        const name = theme();
        const x = newXterm(name);
        document.body.appendChild(bayFor(x.host));
        openXterm(x);
        try {
          x.fit.fit();
        } catch {
          /* not measurable (fonts loading): the pane's fit sizes it */
        }
        spare = { x, theme: name };
      },
      'timeout' in when ? { timeout: when.timeout } : undefined,
    );
  if ('timeout' in when) build();
  else void Promise.race([when.after, new Promise((r) => setTimeout(r, REFILL_WAIT_MS))]).then(build);
}

/**
 * A hidden, inert box with a terminal pane's classes and the terminal area's size now: xterm opens and
 * fits there as it would in the pane (nothing drawn, no focus, no tab stop, nothing read out).
 */
export function bayFor(host: HTMLDivElement): HTMLDivElement {
  const { width, height } = areaSize();
  const bay = document.createElement('div');
  bay.className = 'terminal-container';
  bay.inert = true;
  bay.setAttribute('aria-hidden', 'true');
  // in the window, not offscreen: xterm pauses its renderer outside it (an IntersectionObserver), and a
  // paused renderer's size reached its scrollbar only at the next resize after the pane's
  Object.assign(bay.style, {
    position: 'fixed',
    left: '0',
    top: '0',
    zIndex: '-1',
    pointerEvents: 'none',
    width: `${width}px`,
    height: `${height}px`,
    visibility: 'hidden',
    contain: 'strict',
  });
  bay.appendChild(host);
  return bay;
}
