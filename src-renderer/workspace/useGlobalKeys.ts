// The workspace's keyboard: one capturing listener matches every key against the action registry,
// before xterm or an input sees it, so shortcuts work wherever the focus is.
import { useEffect } from 'react';
import { actionForKey, runAction } from '../actions.ts';
import type { Lab } from '../state/lab.ts';

export function useGlobalKeys(lab: Lab): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.isComposing) return;
      const a = actionForKey(e, lab.state);
      if (!a) return;
      // the palette is modal: only its own toggle passes through it
      if (lab.state.paletteOpen && a.name !== 'palette.open') return;
      e.preventDefault();
      e.stopPropagation();
      runAction(a, lab);
    };
    window.addEventListener('keydown', onKey, true);
    return () => window.removeEventListener('keydown', onKey, true);
  }, [lab]);
}
