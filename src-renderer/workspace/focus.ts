// Moving the keyboard between the workspace's parts (guide, terminal, the tool beside it, live views):
// Tab stays inside xterm and Monaco, so F6 / Shift+F6 (and the palette) carry the focus across.
import type { Lab } from '../state/lab.ts';

const REGIONS = ['guide', 'terminal', 'beside', 'views'] as const;
export type Region = (typeof REGIONS)[number];

function visible(el: HTMLElement | null): el is HTMLElement {
  return !!el && !el.closest('[hidden]') && el.getClientRects().length > 0;
}

const regionEl = (r: Region) => document.querySelector<HTMLElement>(`[data-region="${r}"]`);

/** The region holding the focus now, if any. */
export function currentRegion(): Region | undefined {
  const r = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('[data-region]')?.dataset.region;
  return REGIONS.find((x) => x === r);
}

/** Gives a region the keyboard: the terminal's xterm, the editor, or the region's first control. */
export function focusRegion(lab: Lab, r: Region): boolean {
  const el = regionEl(r);
  if (!visible(el)) return false;
  if (r === 'terminal') {
    const s = lab.activeSession();
    if (s) {
      s.focus();
      return true;
    }
  }
  if (r === 'beside') {
    const monaco = el.querySelector<HTMLElement>(
      '.tool-panel:not([hidden]) textarea.inputarea, .tool-panel:not([hidden]) .monaco-editor textarea',
    );
    if (visible(monaco)) {
      monaco.focus();
      return true;
    }
  }
  const first = el.querySelector<HTMLElement>(
    r === 'guide'
      ? '[data-testid="lab-step-title"], .lab-card, button:not(:disabled)'
      : '.tool-panel:not([hidden]) button:not(:disabled), .tool-panel:not([hidden]) select, select, button:not(:disabled)',
  );
  if (first && visible(first)) {
    if (!first.hasAttribute('tabindex') && !/^(BUTTON|SELECT|INPUT|A|TEXTAREA)$/.test(first.tagName))
      first.setAttribute('tabindex', '-1');
    first.focus();
  } else el.focus();
  return true;
}

/** The next (+1) or previous (-1) region that is shown, wrapping around. */
export function cycleFocus(lab: Lab, delta: 1 | -1): Region | undefined {
  const at = REGIONS.indexOf(currentRegion() ?? (delta > 0 ? 'views' : 'guide'));
  for (let n = 1; n <= REGIONS.length; n++) {
    const r = REGIONS[(at + delta * n + REGIONS.length * 2) % REGIONS.length]!;
    if (focusRegion(lab, r)) return r;
  }
  return undefined;
}
