// Shortcuts written once as text ("Mod+Shift+P") and both shown and matched from that text, so the
// palette can never show a shortcut that does something else. Mod is Cmd on macOS, Ctrl elsewhere.
export const isMac = /Mac|iPhone|iPad/.test(navigator.platform);

interface Parsed {
  ctrl: boolean;
  shift: boolean;
  alt: boolean;
  meta: boolean;
  code: string;
}

/** KeyboardEvent.code for a key name: layout-independent, and Shift does not change it. */
function codeOf(key: string): string {
  if (/^[A-Z]$/.test(key)) return `Key${key}`;
  if (/^[0-9]$/.test(key)) return `Digit${key}`;
  if (key === '`') return 'Backquote';
  return key; // PageDown, PageUp, Enter, Escape, F1…
}

export function parseShortcut(spec: string): Parsed {
  const parts = spec.split('+');
  const key = parts.pop() ?? '';
  const has = (m: string) => parts.includes(m);
  const mod = has('Mod');
  return {
    ctrl: has('Ctrl') || (mod && !isMac),
    shift: has('Shift'),
    alt: has('Alt'),
    meta: has('Meta') || (mod && isMac),
    code: codeOf(key),
  };
}

export function matchesShortcut(spec: string, e: KeyboardEvent): boolean {
  const p = parseShortcut(spec);
  return (
    e.code === p.code && e.ctrlKey === p.ctrl && e.shiftKey === p.shift && e.altKey === p.alt && e.metaKey === p.meta
  );
}

/** The shortcut as people read it on this platform. */
export function showShortcut(spec: string): string {
  return spec
    .split('+')
    .map((k) =>
      k === 'Mod'
        ? isMac
          ? '⌘'
          : 'Ctrl'
        : k === 'Meta'
          ? '⌘'
          : k === 'PageDown'
            ? 'PgDn'
            : k === 'PageUp'
              ? 'PgUp'
              : k,
    )
    .join(isMac ? '' : '+');
}
