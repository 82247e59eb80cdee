// The workspace, laid out as an IDE: world bar on top, guide and pods left, terminals centre, live
// views right, status bar at the bottom. Side panes resize by their splitters and are remembered.
import { useEffect, useState } from 'react';
import { CommandPalette } from '../palette/CommandPalette.tsx';
import { LabGuide } from '../guide/LabGuide.tsx';
import { PodsPanel } from '../pods/PodsPanel.tsx';
import { useAppState, useLab } from '../state/context.ts';
import { loadPrefs, savePrefs } from '../state/prefs.ts';
import { TerminalArea } from '../terminal/TerminalArea.tsx';
import { LiveViews } from '../views/LiveViews.tsx';
import { WorldBar } from '../world/WorldBar.tsx';
import { WorldError } from '../world/WorldError.tsx';
import { Notices } from './Notices.tsx';
import { Splitter } from './Splitter.tsx';
import { StatusBar } from './StatusBar.tsx';
import { useGlobalKeys } from './useGlobalKeys.ts';
import { useTheme } from './useTheme.ts';

const PANE_MIN = 180;
/** The terminals keep at least this much width, whatever the side panes ask for. */
const CENTRE_MIN = 360;

export function Workspace() {
  const lab = useLab();
  const paletteOpen = useAppState((s) => s.paletteOpen);
  const [sizes, setSizes] = useState(() => {
    const p = loadPrefs();
    return { left: p.leftWidth, right: p.rightWidth };
  });
  const [viewport, setViewport] = useState(() => window.innerWidth);
  useGlobalKeys(lab);
  useTheme(lab);

  // remembered once a drag settles, not on every frame of it
  useEffect(() => {
    const t = setTimeout(() => savePrefs({ leftWidth: sizes.left, rightWidth: sizes.right }), 250);
    return () => clearTimeout(t);
  }, [sizes]);

  useEffect(() => {
    const onResize = () => setViewport(window.innerWidth);
    window.addEventListener('resize', onResize);
    return () => window.removeEventListener('resize', onResize);
  }, []);

  const maxLeft = Math.max(PANE_MIN, viewport - sizes.right - CENTRE_MIN);
  const maxRight = Math.max(PANE_MIN, viewport - sizes.left - CENTRE_MIN);
  const left = Math.min(sizes.left, maxLeft);
  const right = Math.min(sizes.right, maxRight);

  return (
    <div className="workspace" style={{ gridTemplateColumns: `${left}px auto minmax(0, 1fr) auto ${right}px` }}>
      <WorldBar />
      <div className="banners">
        <WorldError />
        <Notices />
      </div>
      <aside className="pane pane-left" aria-label="Lab guide and pods">
        <LabGuide />
        <PodsPanel />
      </aside>
      <Splitter
        side="left"
        label="Resize the left pane"
        width={left}
        min={PANE_MIN}
        max={maxLeft}
        onResize={(w) => setSizes((s) => ({ ...s, left: w }))}
      />
      <main className="pane pane-centre" aria-label="Terminals">
        <TerminalArea />
      </main>
      <Splitter
        side="right"
        label="Resize the live views pane"
        width={right}
        min={PANE_MIN}
        max={maxRight}
        onResize={(w) => setSizes((s) => ({ ...s, right: w }))}
      />
      <aside className="pane pane-right" aria-label="Live network views">
        <LiveViews />
      </aside>
      <StatusBar />
      {paletteOpen && <CommandPalette />}
    </div>
  );
}
