// The top bar: the app's name and the world's controls (node count, start, stop, reset), with the
// start's progress as it happens.
import { useEffect, useState } from 'react';
import { runNamed } from '../actions.ts';
import { showShortcut } from '../palette/shortcut.ts';
import { useAppState, useLab } from '../state/context.ts';

export function WorldBar() {
  const lab = useLab();
  const world = useAppState((s) => s.world);
  const busy = useAppState((s) => s.worldBusy);
  const nodeCount = useAppState((s) => s.nodeCount);
  const progress = useAppState((s) => s.progress);
  const online = useAppState((s) => s.connection === 'connected');
  // the field may be empty or out of range while someone types; the store keeps the last valid count
  const [draft, setDraft] = useState(String(nodeCount));
  useEffect(() => setDraft(String(nodeCount)), [nodeCount]);

  const stopped = world.state === 'stopped' || world.state === 'failed';
  const canStart = stopped && !busy && online;
  const canStop = (world.state === 'running' || world.state === 'failed') && !busy && online;
  const canReset = canStop;

  let status = '';
  if (world.state === 'starting' || busy === 'starting' || busy === 'resetting') {
    // the count first: a narrow window cuts the end of the line, not the count
    status = progress
      ? `Starting ${progress.done}/${progress.total}: ${progress.step}`
      : busy === 'resetting'
        ? 'Resetting the world…'
        : 'Starting the world…';
  } else if (world.state === 'stopping' || busy === 'stopping') status = 'Stopping the world…';

  return (
    <header className="topbar">
      <div className="brand">
        <span className="logo" aria-hidden="true" />
        <h1>Podnet Lab</h1>
      </div>
      <div className="world-controls" role="group" aria-label="World controls">
        <label className="node-count">
          Nodes
          <input
            type="number"
            min={1}
            max={8}
            step={1}
            // a running world shows its own size; the field is for the next start
            value={stopped ? draft : String(world.nodes.length || nodeCount)}
            data-testid="node-count"
            aria-label="Node count (1 to 8)"
            disabled={!stopped}
            onChange={(e) => {
              setDraft(e.target.value);
              const n = Number(e.target.value);
              if (Number.isInteger(n) && n >= 1 && n <= 8) lab.setNodeCount(n);
            }}
            onBlur={() => setDraft(String(lab.state.nodeCount))}
          />
        </label>
        <button
          className="button primary"
          data-testid="world-start"
          disabled={!canStart}
          onClick={() => runNamed('world.start', lab)}
        >
          Start world
        </button>
        <button
          className="button"
          data-testid="world-stop"
          disabled={!canStop}
          onClick={() => runNamed('world.stop', lab)}
        >
          Stop
        </button>
        <button
          className="button"
          data-testid="world-reset"
          disabled={!canReset}
          onClick={() => runNamed('world.reset', lab)}
          title="Stop the world and start it again with the same nodes"
        >
          Reset
        </button>
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
