// The workspace, laid out around the lab: world bar and tool bar on top; the guide on the left (wide
// enough for its commands, resizable, foldable); terminals in the centre with a tool (timeline, topology,
// CNI editor) beside them; live views over the topology on the right; status bar at the bottom. Without
// a lab or a world, the home screen. Pane sizes are remembered; which tools are open, per lab.
import { useDeferredValue, useEffect, useState } from 'react';
import { CommandPalette } from '../palette/CommandPalette.tsx';
import { guideOf, useGuide } from '../guide/guide-store.ts';
import { Home } from '../guide/Home.tsx';
import { LabGuide } from '../guide/LabGuide.tsx';
import { PodsPanel } from '../pods/PodsPanel.tsx';
import { useAppState, useLab } from '../state/context.ts';
import { rightPaneShown } from '../state/layout.ts';
import { loadPrefs, savePrefs } from '../state/prefs.ts';
import { TerminalArea } from '../terminal/TerminalArea.tsx';
import { TopologyView } from '../topology/TopologyView.tsx';
import { LiveViews } from '../views/LiveViews.tsx';
import { WorldBar } from '../world/WorldBar.tsx';
import { WorldError } from '../world/WorldError.tsx';
import { BesidePane } from './BesidePane.tsx';
import { ConfirmDialog } from './ConfirmDialog.tsx';
import { Notices } from './Notices.tsx';
import { Splitter } from './Splitter.tsx';
import { StatusBar } from './StatusBar.tsx';
import { ToolBar } from './ToolBar.tsx';
import { useGlobalKeys } from './useGlobalKeys.ts';
import { useElapsed } from './useElapsed.ts';
import { useTheme } from './useTheme.ts';

/** The guide keeps at least this much: its commands must fit (and ≥ 420 px at 1440 wide). */
const GUIDE_MIN = 360;
const RIGHT_MIN = 300;
/** The centre keeps at least this much width, whatever the side panes ask for. */
const CENTRE_MIN = 420;
const RAIL = 34;
const VIEWS_MIN = 120;
const TOPOLOGY_MIN = 180;
/** The world bar, the tool bar and the status bar. */
const CHROME_HEIGHT = 130;
/** A start that takes longer than this shows the side panes while it goes on. */
const SIDES_WAIT_MS = 400;

export function Workspace() {
  const lab = useLab();
  const guide = guideOf(lab);
  const labOpen = useGuide(guide, (s) => s.view !== null);
  const paletteOpen = useAppState((s) => s.paletteOpen);
  const layout = useAppState((s) => s.layout);
  const worldState = useAppState((s) => s.world.state);
  const busy = useAppState((s) => s.worldBusy);
  const freePlay = useAppState((s) => s.freePlay);
  const [sizes, setSizes] = useState(() => {
    const p = loadPrefs();
    return { left: p.leftWidth, right: p.rightWidth, views: p.viewsHeight };
  });
  const [viewport, setViewport] = useState(() => window.innerWidth);
  const [viewportHeight, setViewportHeight] = useState(() => window.innerHeight);
  useGlobalKeys(lab);
  useTheme(lab);

  // remembered once a drag settles, not on every frame of it
  useEffect(() => {
    const t = setTimeout(
      () => savePrefs({ leftWidth: sizes.left, rightWidth: sizes.right, viewsHeight: sizes.views }),
      250,
    );
    return () => clearTimeout(t);
  }, [sizes]);

  useEffect(() => {
    const onResize = () => {
      setViewport(window.innerWidth);
      setViewportHeight(window.innerHeight);
    };
    window.addEventListener('resize', onResize);
    return () => window.removeEventListener('resize', onResize);
  }, []);

  // no lab and no free play: the home screen guides the next step (a world left running waits behind it)
  const home = !labOpen && !freePlay && !busy && worldState !== 'starting';
  // The first time a page leaves home for a start, the side panes' contents (the guide's labs list and the
  // pods; the live views and the topology) are rendered once the world has started, or SIDES_WAIT_MS into
  // a slow start, in React's interruptible time: that first render and paint (cold code, new DOM) took CPU
  // the world's processes needed (2 cores), and node1's prompt waited for both. From then on they render
  // at once (a few ms, while a start's processes run), and a restart, a lab's jump or reset does not
  // empty them. A lab's guide is there at once; the live views show nothing before the world runs anyway.
  const starting = worldState === 'starting' || busy === 'starting';
  const [renderedOnce, setRenderedOnce] = useState(false);
  // timed only until their first render: later starts need no timer, nor its render at SIDES_WAIT_MS
  const slowStart = useElapsed(starting && !renderedOnce, SIDES_WAIT_MS);
  const sidesNow = useDeferredValue(!home && (renderedOnce || !starting || slowStart), false);
  useEffect(() => {
    if (sidesNow) setRenderedOnce(true);
  }, [sidesNow]);
  const guideNow = sidesNow || labOpen;

  const showRight = rightPaneShown(layout, viewport);
  const leftOpen = !layout.guideCollapsed;
  const maxLeft = Math.max(GUIDE_MIN, viewport - (showRight ? RIGHT_MIN : 0) - CENTRE_MIN);
  const left = leftOpen ? Math.max(GUIDE_MIN, Math.min(sizes.left, maxLeft)) : RAIL;
  // with a tool beside the terminals the right pane keeps to its least width: the centre needs the room
  const maxRight = layout.beside ? RIGHT_MIN : Math.max(RIGHT_MIN, viewport - left - CENTRE_MIN);
  const right = showRight ? Math.max(RIGHT_MIN, Math.min(sizes.right, maxRight)) : 0;
  const topologyBelow = layout.beside !== 'topology';
  // the pane is the window less the top bars and the status bar; the topology keeps its least height
  const maxViews = Math.max(VIEWS_MIN, viewportHeight - CHROME_HEIGHT - TOPOLOGY_MIN);
  const views = Math.max(VIEWS_MIN, Math.min(sizes.views, maxViews));

  return (
    <div
      className={`workspace${home ? ' at-home' : ''}`}
      style={home ? undefined : { gridTemplateColumns: `${left}px auto minmax(0, 1fr) auto ${right}px` }}
    >
      <WorldBar />
      {!home && <ToolBar />}
      <div className="banners">
        <WorldError />
      </div>
      {home ? (
        <main className="pane home-pane" aria-label="Home">
          <Home />
        </main>
      ) : (
        <>
          <aside
            className={`pane pane-left${leftOpen ? '' : ' collapsed'}`}
            aria-label="Lab guide and pods"
            data-region="guide"
            tabIndex={-1}
          >
            {leftOpen ? (
              guideNow && (
                <>
                  <LabGuide />
                  <details className="left-pods" open={!labOpen} key={labOpen ? 'lab' : 'free'}>
                    <summary>Pods</summary>
                    <PodsPanel />
                  </details>
                </>
              )
            ) : (
              <button
                className="guide-rail"
                data-testid="guide-expand"
                onClick={() => lab.toggleGuide()}
                aria-label="Show the guide"
                title="Show the guide"
              >
                <span aria-hidden="true">»</span>
                <span className="guide-rail-label">Guide</span>
              </button>
            )}
          </aside>
          {leftOpen ? (
            <Splitter
              side="left"
              label="Resize the guide"
              width={left}
              min={GUIDE_MIN}
              max={maxLeft}
              onResize={(w) => setSizes((s) => ({ ...s, left: w }))}
            />
          ) : (
            <div className="splitter-gap" />
          )}
          <main className="pane pane-centre" aria-label="Terminals and tools">
            <div className="centre-split">
              <div
                className="centre-terminals"
                data-region="terminal"
                style={layout.beside ? { flexBasis: `${(1 - layout.besideShare) * 100}%` } : undefined}
              >
                <TerminalArea />
              </div>
              {layout.besideTools.length > 0 && <BesidePane />}
            </div>
          </main>
          {showRight ? (
            <Splitter
              side="right"
              label="Resize the live views pane"
              width={right}
              min={RIGHT_MIN}
              max={maxRight}
              onResize={(w) => setSizes((s) => ({ ...s, right: w }))}
            />
          ) : (
            <div />
          )}
          <aside className="pane pane-right" aria-label="Live network views" hidden={!showRight}>
            {showRight && sidesNow && (
              <>
                <div
                  className={`right-views${topologyBelow ? ' sized' : ''}`}
                  data-region="views"
                  tabIndex={-1}
                  style={topologyBelow ? { height: views } : undefined}
                >
                  <LiveViews />
                </div>
                {topologyBelow && (
                  <Splitter
                    side="top"
                    width={views}
                    min={VIEWS_MIN}
                    max={maxViews}
                    label="Resize the live views over the topology"
                    onResize={(h) => setSizes((s) => ({ ...s, views: h }))}
                  />
                )}
                {topologyBelow && (
                  <div className="right-topology" data-testid="right-topology">
                    <TopologyView active={true} />
                  </div>
                )}
              </>
            )}
          </aside>
        </>
      )}
      <StatusBar />
      <Notices />
      <ConfirmDialog />
      {paletteOpen && <CommandPalette />}
    </div>
  );
}
