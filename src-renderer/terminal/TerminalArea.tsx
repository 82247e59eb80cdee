// The centre: terminal tabs, the "+" menu, and one panel per tab. Every tab's panel stays mounted
// (hidden when inactive), so a terminal keeps its screen and keeps parsing output in the background.
import { useAppState } from '../state/context.ts';
import { centreTools } from '../workspace/centre-tools.tsx';
import { NewTerminalMenu } from './NewTerminalMenu.tsx';
import { SearchBox } from './SearchBox.tsx';
import { TabStrip } from './TabStrip.tsx';
import { TerminalPanel } from './TerminalPanel.tsx';

export function TerminalArea() {
  const tabs = useAppState((s) => s.tabs);
  const tools = useAppState((s) => s.tools);
  const active = useAppState((s) => s.activeTab);
  const searchOpen = useAppState((s) => s.searchOpen);
  const worldState = useAppState((s) => s.world.state);
  const running = worldState === 'running';
  return (
    <div className="terminal-area">
      <div className="tabbar">
        <TabStrip />
        <NewTerminalMenu />
      </div>
      <div className="terminal-panels">
        {tools.map((t) => {
          const { Panel } = centreTools[t.tool];
          return (
            <div
              key={t.key}
              role="tabpanel"
              id={`panel-${t.key}`}
              aria-labelledby={`tab-${t.key}`}
              className="tool-panel"
              data-testid={t.key}
              hidden={t.key !== active}
            >
              <Panel active={t.key === active} />
            </div>
          );
        })}
        {tabs.map((t) => (
          <TerminalPanel key={t.key} tab={t} active={t.key === active} />
        ))}
        {tabs.length === 0 && tools.length === 0 && (
          <div className="terminal-empty">
            <p>
              {running
                ? 'No terminal open.'
                : worldState === 'starting'
                  ? 'The world is starting…'
                  : 'No world is running.'}
            </p>
            <p className="muted">
              {running ? (
                <>
                  Open one with <strong>+</strong> above: on the sandbox, a node, or a pod.
                </>
              ) : (
                <>
                  {worldState === 'starting'
                    ? 'Then open a terminal on one of its nodes with + above.'
                    : 'Start a world in the top bar, then open a terminal on one of its nodes.'}
                </>
              )}
            </p>
          </div>
        )}
        {searchOpen && active && tabs.some((t) => t.key === active) && <SearchBox key={active} tabKey={active} />}
      </div>
    </div>
  );
}
