// The centre's tools besides terminals (the CNI editor, the lifecycle timeline), as data: a name, a
// tab title and icon, and the panel. A tool opens as one tab beside the terminals and stays mounted.
import { lazy, Suspense, type ComponentType } from 'react';
import type { ToolName } from '../state/store.ts';
import { TimelinePanel } from '../timeline/TimelinePanel.tsx';
import { TopologyView } from '../topology/TopologyView.tsx';

export interface CentreTool {
  title: string;
  /** One character, shown before the title. */
  icon: string;
  /** Words for the palette: "Open the …". */
  label: string;
  Panel: ComponentType<{ active: boolean }>;
}

// Monaco is large: the editor loads when its tab first opens, not with the app
const CniEditor = lazy(() => import('../editor/CniEditor.tsx'));
function EditorTool({ active }: { active: boolean }) {
  return (
    <Suspense
      fallback={
        <div className="terminal-empty">
          <p>Loading the editor…</p>
        </div>
      }
    >
      <CniEditor active={active} />
    </Suspense>
  );
}

export const centreTools: Record<ToolName, CentreTool> = {
  editor: { title: 'CNI config', icon: '{', label: 'Open the CNI config editor', Panel: EditorTool },
  timeline: { title: 'Timeline', icon: '≡', label: 'Open the pod lifecycle timeline', Panel: TimelinePanel },
  topology: { title: 'Topology', icon: '⬡', label: 'Open the world topology', Panel: TopologyView },
};
