// The centre's tools besides terminals (the CNI editor, the lifecycle timeline), as data: a name, a
// tab title and icon, and the panel. A tool opens as one tab beside the terminals and stays mounted.
import type { ComponentType } from 'react';
import type { ToolName } from '../state/store.ts';
import { TopologyView } from '../topology/TopologyView.tsx';

export interface CentreTool {
  title: string;
  /** One character, shown before the title. */
  icon: string;
  /** Words for the palette: "Open the …". */
  label: string;
  Panel: ComponentType<{ active: boolean }>;
}

function Placeholder({ what }: { what: string }) {
  return (
    <div className="terminal-empty">
      <p>{what} arrives later.</p>
    </div>
  );
}

export const centreTools: Record<ToolName, CentreTool> = {
  editor: { title: 'CNI config', icon: '{', label: 'Open the CNI config editor', Panel: () => <Placeholder what="The CNI config editor" /> },
  timeline: { title: 'Timeline', icon: '≡', label: 'Open the pod lifecycle timeline', Panel: () => <Placeholder what="The lifecycle timeline" /> },
  topology: { title: 'Topology', icon: '⬡', label: 'Open the world topology', Panel: TopologyView },
};
