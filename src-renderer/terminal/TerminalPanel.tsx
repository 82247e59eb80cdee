// One tab's panel: the element its xterm lives in, and a bar to reopen the shell once it ended.
import { useEffect, useRef } from 'react';
import { useAppState, useLab } from '../state/context.ts';
import type { TabState } from '../state/store.ts';
import { tabTestId } from './TabStrip.tsx';

export function TerminalPanel({ tab, active }: { tab: TabState; active: boolean }) {
  const lab = useLab();
  const ref = useRef<HTMLDivElement>(null);
  const id = tabTestId(tab);
  const running = useAppState((s) => s.world.state === 'running');

  useEffect(() => {
    const s = lab.sessions.get(tab.key);
    if (!s || !ref.current) return;
    s.mount(ref.current);
    return () => s.unmount();
  }, [lab, tab.key]);

  return (
    <div
      role="tabpanel"
      id={`panel-${tab.key}`}
      aria-labelledby={`tab-${tab.key}`}
      className="terminal-panel"
      hidden={!active}
    >
      <div className="terminal-container" ref={ref} data-testid={`terminal-${id}`} />
      {tab.status === 'opening' && (
        <div className="terminal-overlay" role="status">
          <span className="spinner" aria-hidden="true" /> Opening a shell on {tab.title}…
        </div>
      )}
      {tab.status === 'exited' && (
        <div className="exit-bar" role="status">
          <span>The terminal on {tab.title} has ended.</span>
          <button
            className="button small primary"
            data-testid={`terminal-reopen-${id}`}
            disabled={!running}
            onClick={() => void lab.sessions.get(tab.key)?.reopen()}
          >
            Reopen
          </button>
          <button className="button small" onClick={() => lab.closeTab(tab.key)}>
            Close
          </button>
        </div>
      )}
    </div>
  );
}
