// The tool bar: every tool in reach, with its shortcut — the terminal, the timeline, the topology, the
// CNI editor, the live views — and the guide's fold. A pressed button is a tool on screen now.
import { runNamed, TOOL_SHORTCUTS, type ActionName } from '../actions.ts';
import { showShortcut } from '../palette/shortcut.ts';
import { useAppState, useLab } from '../state/context.ts';
import { rightPaneShown } from '../state/layout.ts';

interface Item {
  id: keyof typeof TOOL_SHORTCUTS;
  label: string;
  icon: string;
  action: ActionName;
  title: string;
}

const ITEMS: Item[] = [
  { id: 'terminal', label: 'Terminal', icon: '▣', action: 'view.terminal', title: 'Show the terminal' },
  {
    id: 'timeline',
    label: 'Timeline',
    icon: '≡',
    action: 'tool.open:timeline',
    title: 'The pod lifecycle, step by step, beside the terminals',
  },
  {
    id: 'topology',
    label: 'Topology',
    icon: '⬡',
    action: 'tool.open:topology',
    title: 'The world drawn: nodes, pods, veth pairs, bridges, tunnels (beside the terminals)',
  },
  {
    id: 'editor',
    label: 'CNI editor',
    icon: '{',
    action: 'tool.open:editor',
    title: "A node's /etc/cni/net.d, checked as you type, beside the terminals",
  },
  {
    id: 'views',
    label: 'Live views',
    icon: '◫',
    action: 'view.liveViews',
    title: "A namespace's links, addresses, routes, neighbours and FDB, live (right pane)",
  },
];

export function ToolBar() {
  const lab = useLab();
  const layout = useAppState((s) => s.layout);
  const activeIsTerminal = useAppState((s) => s.tabs.some((t) => t.key === s.activeTab));
  const pressed = (id: Item['id']) =>
    id === 'terminal'
      ? activeIsTerminal
      : id === 'views'
        ? rightPaneShown(layout, window.innerWidth)
        : layout.beside === id;
  return (
    <nav className="toolbar" aria-label="Tools" data-testid="toolbar">
      <button
        className={`tool-button${layout.guideCollapsed ? '' : ' on'}`}
        data-testid="toolbar-guide"
        aria-pressed={!layout.guideCollapsed}
        title={`Fold or unfold the guide (${showShortcut('Alt+G')})`}
        onClick={() => lab.toggleGuide()}
      >
        <span className="tool-icon" aria-hidden="true">
          ☰
        </span>
        Guide
      </button>
      <span className="toolbar-sep" aria-hidden="true" />
      {ITEMS.map((it) => (
        <button
          key={it.id}
          className={`tool-button${pressed(it.id) ? ' on' : ''}`}
          data-testid={`toolbar-${it.id}`}
          aria-pressed={pressed(it.id)}
          title={`${it.title} (${showShortcut(TOOL_SHORTCUTS[it.id])})`}
          onClick={() => runNamed(it.action, lab)}
        >
          <span className="tool-icon" aria-hidden="true">
            {it.icon}
          </span>
          {it.label}
          <kbd>{showShortcut(TOOL_SHORTCUTS[it.id])}</kbd>
        </button>
      ))}
      <span className="spacer" />
      <span className="toolbar-hint muted">
        <kbd>F6</kbd> next pane
      </span>
    </nav>
  );
}
