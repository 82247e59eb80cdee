// Find in the active terminal (Ctrl+Shift+F): as you type, Enter for the next match, Shift+Enter
// for the previous one, Escape to close and return to the shell.
import { useEffect, useRef, useState } from 'react';
import { useAppState, useLab } from '../state/context.ts';

export function SearchBox({ tabKey }: { tabKey: string }) {
  const lab = useLab();
  const [query, setQuery] = useState('');
  const input = useRef<HTMLInputElement>(null);
  const results = useAppState((s) => s.tabs.find((t) => t.key === tabKey)?.search ?? null);
  const session = () => lab.sessions.get(tabKey);

  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);

  const find = (direction: 'next' | 'previous', incremental = false) => {
    if (query) session()?.find(query, direction, incremental);
  };

  const count = !query
    ? ''
    : !results || results.count === 0
      ? 'No results'
      : `${results.index >= 0 ? results.index + 1 : '?'} of ${results.count}`;

  return (
    <div className="search-box" role="search" aria-label="Find in terminal">
      <input
        ref={input}
        id="terminal-search-input"
        data-testid="terminal-search"
        aria-label="Find in terminal"
        placeholder="Find"
        spellCheck={false}
        value={query}
        onChange={(e) => {
          setQuery(e.target.value);
          if (e.target.value) session()?.find(e.target.value, 'next', true);
          else session()?.clearSearch();
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            find(e.shiftKey ? 'previous' : 'next');
          } else if (e.key === 'Escape') {
            e.preventDefault();
            lab.setSearch(false);
          }
        }}
      />
      <span className="search-count" aria-live="polite">
        {count}
      </span>
      <button
        className="icon-button"
        aria-label="Previous match"
        title="Previous match (Shift+Enter)"
        onClick={() => find('previous')}
      >
        ↑
      </button>
      <button className="icon-button" aria-label="Next match" title="Next match (Enter)" onClick={() => find('next')}>
        ↓
      </button>
      <button
        className="icon-button"
        aria-label="Close search"
        title="Close (Escape)"
        onClick={() => lab.setSearch(false)}
      >
        ×
      </button>
    </div>
  );
}
