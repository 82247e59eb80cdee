// The tools beside the terminals: the timeline, the topology, the CNI editor. Each opened tool has a
// tab here; the editor and the timeline stay mounted while hidden (unsaved edits, a paused step-through).
// The splitter between terminals and tool sets the tool's share, remembered per lab.
import { useRef, type KeyboardEvent, type PointerEvent } from 'react';
import { useAppState, useLab } from '../state/context.ts';
import type { ToolName } from '../state/store.ts';
import { centreTools } from './centre-tools.tsx';

export function BesidePane() {
  const lab = useLab();
  const layout = useAppState((s) => s.layout);
  const { beside, besideTools } = layout;
  const drag = useRef<{ x: number; share: number; width: number } | null>(null);

  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    if (e.button !== 0) return;
    const centre = e.currentTarget.parentElement?.getBoundingClientRect().width ?? 1;
    e.currentTarget.setPointerCapture(e.pointerId);
    drag.current = { x: e.clientX, share: layout.besideShare, width: centre };
    document.body.classList.add('resizing');
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    const d = drag.current;
    if (!d) return;
    const share = Math.max(0.25, Math.min(0.75, d.share - (e.clientX - d.x) / d.width));
    lab.setLayout({ besideShare: share });
  };
  const end = () => {
    drag.current = null;
    document.body.classList.remove('resizing');
  };
  const onSplitKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const step = e.key === 'ArrowLeft' ? 0.04 : e.key === 'ArrowRight' ? -0.04 : 0;
    if (!step) return;
    e.preventDefault();
    lab.setLayout({ besideShare: Math.max(0.25, Math.min(0.75, layout.besideShare + step)) });
  };

  const mounted = (t: ToolName) => t === beside || (t !== 'topology' && besideTools.includes(t));
  return (
    <>
      <div
        className="splitter splitter-beside"
        role="separator"
        aria-orientation="vertical"
        aria-label="Resize the tool beside the terminals"
        aria-valuenow={Math.round(layout.besideShare * 100)}
        tabIndex={0}
        hidden={!beside}
        data-testid="splitter-beside"
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={end}
        onPointerCancel={end}
        onKeyDown={onSplitKey}
      />
      <section
        className="beside"
        aria-label="Tools beside the terminals"
        data-region="beside"
        data-testid="beside"
        data-tool={beside ?? ''}
        tabIndex={-1}
        hidden={!beside}
        style={{ flexBasis: `${layout.besideShare * 100}%` }}
      >
        <div className="beside-tabs" role="tablist" aria-label="Tools">
          {besideTools.map((t) => {
            const tool = centreTools[t];
            const selected = t === beside;
            return (
              <div key={t} className={`tab tab-tool${selected ? ' active' : ''}`} role="presentation">
                <div
                  id={`tab-tool-${t}`}
                  role="tab"
                  className="tab-label"
                  aria-selected={selected}
                  aria-controls={`panel-tool-${t}`}
                  tabIndex={selected ? 0 : -1}
                  data-testid={`tab-tool-${t}`}
                  onClick={() => lab.openTool(t)}
                  onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && lab.openTool(t)}
                >
                  <span className="tab-icon" aria-hidden="true">
                    {tool.icon}
                  </span>
                  <span className="tab-title">{tool.title}</span>
                </div>
                <button
                  className="tab-close"
                  data-testid={`tab-close-tool-${t}`}
                  aria-label={`Close ${tool.title}`}
                  title={`Close ${tool.title}`}
                  tabIndex={-1}
                  onClick={() => void lab.closeTool(t)}
                >
                  ×
                </button>
              </div>
            );
          })}
          <span className="spacer" />
          <button
            className="icon-button"
            aria-label="Hide the tools (the terminals take the centre)"
            title="Hide the tools (they stay open)"
            data-testid="beside-hide"
            onClick={() => lab.setLayout({ beside: null })}
          >
            ⇥
          </button>
        </div>
        <div className="beside-panels">
          {besideTools.filter(mounted).map((t) => {
            const { Panel } = centreTools[t];
            return (
              <div
                key={t}
                role="tabpanel"
                id={`panel-tool-${t}`}
                aria-labelledby={`tab-tool-${t}`}
                className="tool-panel"
                data-testid={`tool-${t}`}
                hidden={t !== beside}
              >
                <Panel active={t === beside} />
              </div>
            );
          })}
        </div>
      </section>
    </>
  );
}
