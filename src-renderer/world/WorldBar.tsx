// The top bar: the app's name (home), the world's controls and the start's progress. Free play starts
// an empty world of N nodes; a running world's Stop and Restart sit in the World menu, each saying what
// it ends and asking first. With a lab open, the world is the lab's: its restart rebuilds the lab's step.
import { useEffect, useRef, useState } from 'react';
import { runNamed } from '../actions.ts';
import { guideOf, useGuide } from '../guide/guide-store.ts';
import { showShortcut } from '../palette/shortcut.ts';
import { useAppState, useLab } from '../state/context.ts';

export function WorldBar() {
  const lab = useLab();
  const guide = guideOf(lab);
  const view = useGuide(guide, (s) => s.view);
  const world = useAppState((s) => s.world);
  const busy = useAppState((s) => s.worldBusy);
  const nodeCount = useAppState((s) => s.nodeCount);
  const runtime = useAppState((s) => s.runtime);
  const progress = useAppState((s) => s.progress);
  const online = useAppState((s) => s.connection === 'connected');
  // the field may be empty or out of range while someone types; the store keeps the last valid count
  const [draft, setDraft] = useState(String(nodeCount));
  useEffect(() => setDraft(String(nodeCount)), [nodeCount]);
  const [menu, setMenu] = useState(false);
  const menuRef = useRef<HTMLDivElement>(null);
  const menuButton = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (!menu) return;
    menuRef.current?.querySelector<HTMLButtonElement>('[role="menuitem"]:not(:disabled)')?.focus();
    const away = (e: PointerEvent) => {
      if (!menuRef.current?.contains(e.target as Node) && !menuButton.current?.contains(e.target as Node))
        setMenu(false);
    };
    document.addEventListener('pointerdown', away, true);
    return () => document.removeEventListener('pointerdown', away, true);
  }, [menu]);

  const stopped = world.state === 'stopped' || world.state === 'failed';
  const canStart = stopped && !busy && online;
  const canStop = (world.state === 'running' || world.state === 'failed') && !busy && online;

  let status = '';
  if (world.state === 'starting' || busy === 'starting' || busy === 'resetting') {
    // the count first: a narrow window cuts the end of the line, not the count
    status = progress
      ? `Starting ${progress.done}/${progress.total}: ${progress.step}`
      : busy === 'resetting'
        ? 'Restarting the world…'
        : 'Starting the world…';
  } else if (world.state === 'stopping' || busy === 'stopping') status = 'Stopping the world…';

  const choose = (action: 'world.stop' | 'world.reset') => {
    setMenu(false);
    menuButton.current?.focus();
    runNamed(action, lab);
  };

  return (
    <header className="topbar">
      <button
        className="brand"
        data-testid="home"
        onClick={() => runNamed('home', lab)}
        title="Home: all labs (the open lab keeps its progress)"
        aria-label="Podnet Lab: home"
      >
        <span className="logo" aria-hidden="true" />
        <h1>Podnet Lab</h1>
      </button>
      {view && (
        <span className="topbar-lab muted" data-testid="topbar-lab" title={view.summary}>
          {labNumber(view.id)}
          {view.title}
        </span>
      )}
      <div className="world-controls" role="group" aria-label="World controls">
        {stopped && !view && (
          <>
            <label className="node-count">
              Nodes
              <input
                type="number"
                min={1}
                max={8}
                step={1}
                value={draft}
                data-testid="node-count"
                aria-label="Node count (1 to 8)"
                onChange={(e) => {
                  setDraft(e.target.value);
                  const n = Number(e.target.value);
                  if (Number.isInteger(n) && n >= 1 && n <= 8) lab.setNodeCount(n);
                }}
                onBlur={() => setDraft(String(lab.state.nodeCount))}
              />
            </label>
            <label className="node-count">
              Runtime
              <select
                value={runtime}
                data-testid="runtime-select"
                aria-label="Runtime of the next world"
                title="The model of containerd 2.1 steps through and takes faults; the real containerd 2.1.9 runs in each node"
                onChange={(e) => lab.setRuntime(e.target.value === 'containerd' ? 'containerd' : 'model')}
              >
                <option value="model">model (step-through)</option>
                <option value="containerd">containerd 2.1.9 (real)</option>
              </select>
            </label>
            <button
              className="button"
              data-testid="world-start"
              disabled={!canStart}
              title="Free play: an empty world of this many nodes, no lab"
              onClick={() => {
                lab.setFreePlay(true);
                runNamed('world.start', lab);
              }}
            >
              Start world
            </button>
          </>
        )}
        {stopped && view && (
          <button
            className="button"
            data-testid="lab-world-build"
            disabled={!canStart || !!view.busy}
            onClick={() => void guide.jump(view.current)}
            title="Build this lab's world at the step shown (earlier steps' solutions applied)"
          >
            Build the lab's world
          </button>
        )}
        {!stopped && (
          <span className="menu-anchor">
            <button
              ref={menuButton}
              className="button"
              data-testid="world-menu"
              aria-haspopup="menu"
              aria-expanded={menu}
              disabled={!canStop}
              onClick={() => setMenu((m) => !m)}
              onKeyDown={(e) => e.key === 'Escape' && setMenu(false)}
            >
              World ▾
            </button>
            {menu && (
              <div
                className="menu world-menu"
                role="menu"
                ref={menuRef}
                aria-label="World"
                onKeyDown={(e) => {
                  if (e.key === 'Escape') {
                    setMenu(false);
                    menuButton.current?.focus();
                  }
                  const items = [...(menuRef.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
                  const i = items.indexOf(document.activeElement as HTMLElement);
                  if (e.key === 'ArrowDown') items[(i + 1) % items.length]?.focus();
                  if (e.key === 'ArrowUp') items[(i - 1 + items.length) % items.length]?.focus();
                }}
              >
                <button
                  role="menuitem"
                  className="menu-item"
                  data-testid="world-reset"
                  onClick={() => choose('world.reset')}
                >
                  <span className="menu-label">
                    {view ? `Rebuild the lab's world at step ${view.current + 1}…` : 'Restart the world…'}
                  </span>
                  <span className="menu-hint">
                    {view
                      ? 'a fresh world with the earlier steps’ solutions; what you made in this one is lost'
                      : 'an empty world with the same nodes; terminals, pods and everything made in it end'}
                  </span>
                </button>
                <button
                  role="menuitem"
                  className="menu-item"
                  data-testid="world-stop"
                  onClick={() => choose('world.stop')}
                >
                  <span className="menu-label">Stop the world…</span>
                  <span className="menu-hint">every process, namespace and terminal of the world ends</span>
                </button>
              </div>
            )}
          </span>
        )}
      </div>
      <div className="progress" data-testid="world-progress" aria-live="polite" title={status}>
        {status && <span className="spinner" aria-hidden="true" />}
        <span className="progress-text">{status}</span>
      </div>
      <button
        className="button ghost"
        onClick={() => lab.setPalette(true)}
        aria-label="Show all commands"
        title="Show all commands"
      >
        Commands <kbd>{showShortcut('Mod+Shift+P')}</kbd>
      </button>
    </header>
  );
}

/** "03 · " for lab 03-bridge: the number the home screen shows. */
export function labNumber(id: string): string {
  const m = /^(\d+)-/.exec(id);
  return m ? `${m[1]} · ` : '';
}
