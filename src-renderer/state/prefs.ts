// What the workspace remembers between sessions, in localStorage: pane sizes, node count, theme.
// Read defensively: a value from an older version or another tool must not break the start.
import type { ThemeName } from './store.ts';

// v2: the guide is wider (commands fit); v1's narrow widths are not carried over
const KEY = 'podnet.prefs.v2';

export interface Prefs {
  leftWidth: number;
  rightWidth: number;
  /** The live views' height over the topology in the right pane (px). */
  viewsHeight: number;
  nodeCount: number;
  runtime: 'model' | 'containerd';
  themeOverride: ThemeName | null;
  /** The lab last opened, for the home screen's "Continue". */
  lastLab: string | null;
}

export const defaultPrefs: Prefs = {
  leftWidth: 460,
  rightWidth: 400,
  viewsHeight: 280,
  nodeCount: 2,
  runtime: 'model',
  themeOverride: null,
  lastLab: null,
};

export function loadPrefs(): Prefs {
  try {
    const raw = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Record<keyof Prefs, unknown>>;
    const num = (v: unknown, lo: number, hi: number, d: number) =>
      typeof v === 'number' && Number.isFinite(v) ? Math.max(lo, Math.min(hi, Math.round(v))) : d;
    return {
      leftWidth: num(raw.leftWidth, 320, 900, defaultPrefs.leftWidth),
      rightWidth: num(raw.rightWidth, 160, 900, defaultPrefs.rightWidth),
      viewsHeight: num(raw.viewsHeight, 120, 2000, defaultPrefs.viewsHeight),
      nodeCount: num(raw.nodeCount, 1, 8, defaultPrefs.nodeCount),
      runtime: raw.runtime === 'containerd' ? 'containerd' : 'model',
      themeOverride: raw.themeOverride === 'light' || raw.themeOverride === 'dark' ? raw.themeOverride : null,
      lastLab: typeof raw.lastLab === 'string' && /^[A-Za-z0-9_.-]{1,100}$/.test(raw.lastLab) ? raw.lastLab : null,
    };
  } catch {
    return { ...defaultPrefs };
  }
}

export function savePrefs(patch: Partial<Prefs>): void {
  try {
    localStorage.setItem(KEY, JSON.stringify({ ...loadPrefs(), ...patch }));
  } catch {
    /* storage full or disabled: the workspace still works, it just forgets */
  }
}
