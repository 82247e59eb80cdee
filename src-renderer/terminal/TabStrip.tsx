// The terminal tabs (an ARIA tablist: arrow keys move, Delete closes). A tab's test id carries the
// engine's terminal id, or the tab's own key while it has none (opening, or its world stopped).
import type { KeyboardEvent } from 'react';
import { useAppState, useLab } from '../state/context.ts';
import type { TabState } from '../state/store.ts';
import { centreTools } from '../workspace/centre-tools.tsx';

export const tabTestId = (t: TabState) => t.id ?? t.key;

/** What makes a tab an ARIA tab of this strip: its id, its panel, and roving focus. */
const tabProps = (key: string, selected: boolean) =>
  ({
    id: `tab-${key}`,
    role: 'tab',
    'aria-selected': selected,
    'aria-controls': `panel-${key}`,
    tabIndex: selected ? 0 : -1,
    className: 'tab-label',
  }) as const;

export function TabStrip() {
  const lab = useLab();
  const tabs = useAppState((s) => s.tabs);
  const tools = useAppState((s) => s.tools);
  const active = useAppState((s) => s.activeTab);

  const onKeyDown = (e: KeyboardEvent, key: string) => {
    const keys = lab.tabKeys();
    const i = keys.indexOf(key);
    const move = (j: number) => {
      const next = keys[(j + keys.length) % keys.length];
      if (next) {
        lab.activate(next, false);
        document.getElementById(`tab-${next}`)?.focus();
      }
    };
    if (e.key === 'ArrowRight') move(i + 1);
    else if (e.key === 'ArrowLeft') move(i - 1);
    else if (e.key === 'Home') move(0);
    else if (e.key === 'End') move(keys.length - 1);
    else if (e.key === 'Delete') lab.closeTab(key);
    else if (e.key === 'Enter' || e.key === ' ') lab.activate(key);
    else return;
    e.preventDefault();
  };

  return (
    <div className="tabs" role="tablist" aria-label="Terminals and tools">
      {tools.map((t) => {
        const selected = t.key === active;
        const tool = centreTools[t.tool];
        return (
          <div
            key={t.key}
            role="presentation"
            className={`tab tab-tool${selected ? ' active' : ''}`}
            onAuxClick={(e) => e.button === 1 && lab.closeTab(t.key)}
          >
            <div
              {...tabProps(t.key, selected)}
              data-testid={`tab-${t.key}`}
              title={tool.title}
              onClick={() => lab.activate(t.key)}
              onKeyDown={(e) => onKeyDown(e, t.key)}
            >
              <span className="tab-icon" aria-hidden="true">
                {tool.icon}
              </span>
              <span className="tab-title">{tool.title}</span>
            </div>
            <button
              className="tab-close"
              data-testid={`tab-close-${t.key}`}
              aria-label={`Close ${tool.title}`}
              title="Close (Ctrl+Shift+X)"
              tabIndex={-1}
              onClick={() => lab.closeTab(t.key)}
            >
              ×
            </button>
          </div>
        );
      })}
      {tabs.map((t) => {
        const selected = t.key === active;
        const id = tabTestId(t);
        return (
          // the close button sits beside the tab, not in it: a role="tab" holds no other control
          <div
            key={t.key}
            role="presentation"
            className={`tab${selected ? ' active' : ''} tab-${t.status}`}
            onAuxClick={(e) => e.button === 1 && lab.closeTab(t.key)}
          >
            <div
              {...tabProps(t.key, selected)}
              data-testid={`tab-${id}`}
              data-status={t.status}
              data-unseen={t.unseen || undefined}
              title={`${t.title}${t.status === 'exited' ? ' (ended)' : t.status === 'opening' ? ' (opening)' : ''}${t.unseen ? ', new output' : ''}`}
              onClick={() => lab.activate(t.key)}
              onKeyDown={(e) => onKeyDown(e, t.key)}
            >
              <span className="tab-icon" aria-hidden="true">
                {t.target.kind === 'pod' ? '◆' : t.target.kind === 'node' ? '▣' : '▢'}
              </span>
              <span className="tab-title">{t.title}</span>
              {t.unseen && <span className="tab-unseen" role="img" aria-label="new output" />}
            </div>
            <button
              className="tab-close"
              data-testid={`tab-close-${id}`}
              aria-label={`Close terminal ${t.title}`}
              title="Close (Ctrl+Shift+X)"
              tabIndex={-1}
              onClick={() => lab.closeTab(t.key)}
            >
              ×
            </button>
          </div>
        );
      })}
    </div>
  );
}
