// Where the panes are, remembered per lab (and once for free play) in localStorage: a lab that opened
// the timeline beside the terminals finds it there again. Read defensively, as prefs are.
import type { Layout, ToolName } from './store.ts';

const KEY = 'podnet.layout.v1';
/** Below this window width a tool beside the terminals takes the live views' room (the right pane hides). */
export const ROOM_FOR_ALL = 1600;

/** Whether the right pane (live views, topology) is on screen with this layout at this width. */
export const rightPaneShown = (l: Layout, width: number) => l.views && (l.beside === null || width >= ROOM_FOR_ALL);
const TOOLS: ToolName[] = ['timeline', 'topology', 'editor'];

export const defaultLayout: Layout = {
  guideCollapsed: false,
  views: true,
  besideTools: [],
  beside: null,
  besideShare: 0.55,
};

/** The key a layout is kept under: the lab's id, or "free" for a world without a lab. */
export const layoutKey = (labId: string | null | undefined) => labId ?? 'free';

function readAll(): Record<string, unknown> {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '{}') as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

export function loadLayout(key: string): Layout {
  const raw = (readAll()[key] ?? {}) as Partial<Record<keyof Layout, unknown>>;
  const tools = Array.isArray(raw.besideTools)
    ? TOOLS.filter((t) => (raw.besideTools as unknown[]).includes(t))
    : defaultLayout.besideTools;
  const beside =
    typeof raw.beside === 'string' && tools.includes(raw.beside as ToolName) ? (raw.beside as ToolName) : null;
  const share = typeof raw.besideShare === 'number' && Number.isFinite(raw.besideShare) ? raw.besideShare : 0.55;
  return {
    guideCollapsed: raw.guideCollapsed === true,
    views: raw.views !== false,
    besideTools: tools,
    beside,
    besideShare: Math.max(0.25, Math.min(0.75, share)),
  };
}

export function saveLayout(key: string, layout: Layout): void {
  try {
    localStorage.setItem(KEY, JSON.stringify({ ...readAll(), [key]: layout }));
  } catch {
    /* storage full or disabled: the layout is not remembered, nothing else changes */
  }
}
