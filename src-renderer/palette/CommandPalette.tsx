// The command palette (Mod+Shift+P): every action of the registry with its shortcut, filtered as
// you type (every word must appear), arrows to choose, Enter to run. Actions that do not apply now
// are listed dimmed, so people learn they exist.
import { useEffect, useMemo, useRef, useState } from 'react';
import { allActions, isEnabled, runAction, type Action } from '../actions.ts';
import { useAppState, useLab } from '../state/context.ts';
import { showShortcut } from './shortcut.ts';

export function filterActions(actions: Action[], query: string): Action[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  return actions.filter((a) => {
    const text = `${a.label} ${a.name}`.toLowerCase();
    return words.every((w) => text.includes(w));
  });
}

export function CommandPalette() {
  const lab = useLab();
  const state = useAppState((s) => s);
  const [query, setQuery] = useState('');
  const [selected, setSelected] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  const list = useRef<HTMLUListElement>(null);
  // where the focus goes back to when the palette closes without moving it elsewhere
  const opener = useRef<Element | null>(document.activeElement);

  const items = useMemo(() => filterActions(allActions(state), query), [state, query]);
  const enabled = (i: number) => !!items[i] && isEnabled(items[i], state);

  useEffect(() => input.current?.focus(), []);
  // keep the selection on an enabled item after the list changes
  useEffect(() => {
    const first = items.findIndex((a) => isEnabled(a, state));
    setSelected(first < 0 ? 0 : first);
    // only when the query changes: the selection must not jump while state updates
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [query]);
  useEffect(() => {
    list.current?.querySelector(`#palette-option-${selected}`)?.scrollIntoView({ block: 'nearest' });
  }, [selected]);

  const close = () => {
    lab.setPalette(false);
    if (opener.current instanceof HTMLElement && opener.current.isConnected) opener.current.focus();
  };
  const run = (a: Action | undefined) => {
    if (!a || !isEnabled(a, state)) return;
    close();
    runAction(a, lab);
  };
  const move = (delta: number) => {
    if (!items.length) return;
    let i = selected;
    for (let n = 0; n < items.length; n++) {
      i = (i + delta + items.length) % items.length;
      if (enabled(i)) break;
    }
    setSelected(i);
  };

  return (
    <div className="palette-backdrop" onPointerDown={close}>
      <div
        className="palette"
        role="dialog"
        aria-modal="true"
        aria-label="Command palette"
        data-testid="palette"
        onPointerDown={(e) => e.stopPropagation()}
      >
        <input
          ref={input}
          data-testid="palette-input"
          className="palette-input"
          role="combobox"
          aria-expanded="true"
          aria-controls="palette-list"
          aria-autocomplete="list"
          aria-activedescendant={items.length ? `palette-option-${selected}` : undefined}
          aria-label="Type a command"
          placeholder="Type a command"
          spellCheck={false}
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown') move(1);
            else if (e.key === 'ArrowUp') move(-1);
            else if (e.key === 'Enter') run(items[selected]);
            else if (e.key === 'Escape') close();
            else return;
            e.preventDefault();
          }}
        />
        <ul className="palette-list" id="palette-list" role="listbox" aria-label="Commands" ref={list}>
          {items.length === 0 && <li className="palette-empty">No command matches “{query}”.</li>}
          {items.map((a, i) => {
            const on = isEnabled(a, state);
            return (
              <li
                key={a.name}
                id={`palette-option-${i}`}
                role="option"
                aria-selected={i === selected}
                aria-disabled={!on}
                data-testid={`palette-item-${a.name}`}
                className={`palette-item${i === selected ? ' selected' : ''}${on ? '' : ' disabled'}`}
                onPointerMove={() => on && setSelected(i)}
                onClick={() => run(a)}
              >
                <span className="palette-label">{a.label}</span>
                {a.shortcut && <kbd>{showShortcut(a.shortcut)}</kbd>}
              </li>
            );
          })}
        </ul>
      </div>
    </div>
  );
}
