// The pod lifecycle timeline (a centre tool): pick an operation (SyncPod or KillPod of a pod), see its
// steps as swimlanes and as an ordered list, click one for its details; step through with Next step
// (F10) and Continue (F8); inject a fault and read, afterwards, what leaked.
import type { TimelineOperation, TimelineStep } from '../../src-main/api/contract.ts';
import { useAppState, useLab } from '../state/context.ts';
import { FaultMenu } from './FaultMenu.tsx';
import { compressor, formatMs, treeOrder } from './layout.ts';
import { StepDetails } from './StepDetails.tsx';
import { Swimlanes } from './Swimlanes.tsx';
import { timelineOf, useTimeline, type TimelineModel } from './timeline-model.ts';
import './timeline.css';

const NO_STEPS: TimelineStep[] = [];

const KINDS: Record<TimelineOperation['kind'], string> = {
  syncPod: 'SyncPod',
  killPod: 'KillPod',
  garbageCollect: 'GarbageCollect',
  apiCreate: 'API create → SyncPod',
  apiDelete: 'API delete → KillPod',
  kubectl: 'kubectl',
  controlPlane: 'control plane',
};

function opLabel(o: TimelineOperation): string {
  const time = new Date(o.startedAt).toLocaleTimeString();
  // a control-plane operation says what it was (kubectl create pod default/web); a kubelet's names its pod
  const what =
    o.kind === 'kubectl' || o.kind === 'controlPlane'
      ? (o.title ?? KINDS[o.kind])
      : `${KINDS[o.kind]} ${o.pod}${o.node ? ` on ${o.node}` : ''}`;
  return `#${o.id} ${what} · ${o.state}${o.fault ? ' · fault' : ''}${o.stepThrough ? ' · stepped' : ''} · ${time}`;
}

function PauseBanner({ op, model }: { op: TimelineOperation; model: TimelineModel }) {
  const p = op.pause;
  if (op.state !== 'paused' || !p) {
    if (op.stepThrough && op.state === 'running')
      return (
        <div className="tl-pause running" data-testid="timeline-pause">
          Running the step…
        </div>
      );
    return null;
  }
  const ns = p.netns?.split('/').pop();
  return (
    <div className="tl-pause" role="status" data-testid="timeline-pause">
      <div>
        <strong>Paused</strong> before <span className={`tl-chip lane-${p.next.component}`}>{p.next.component}</span>{' '}
        <strong data-testid="pause-next">{p.next.name}</strong>
        {p.after && (
          <>
            {' '}
            — after <span className={`tl-chip lane-${p.after.component}`}>{p.after.component}</span>{' '}
            <span data-testid="pause-after">{p.after.name}</span>
          </>
        )}
      </div>
      {ns && (
        <div className="tl-pause-ns">
          Pod network namespace <code>{p.netns}</code>
          {p.podLinks ? (
            <>
              {': '}
              <span data-testid="pause-links">
                {p.podLinks
                  .map(
                    (l) =>
                      `${l.ifname} ${l.up ? 'UP' : 'DOWN'}${l.state !== 'UNKNOWN' && l.state !== (l.up ? 'UP' : 'DOWN') ? ` (${l.state})` : ''}`,
                  )
                  .join(', ')}
              </span>
            </>
          ) : null}
          <span className="muted"> · in a {op.node} terminal: </span>
          <code>ip netns exec {ns} ip link</code>
        </div>
      )}
      <div className="tl-pause-actions">
        <button
          type="button"
          className="button primary small"
          onClick={() => void model.next()}
          data-testid="timeline-next"
          title="Next step (F10)"
        >
          Next step <kbd>F10</kbd>
        </button>
        <button
          type="button"
          className="button small"
          onClick={() => void model.continue()}
          data-testid="timeline-continue"
          title="Continue (F8)"
        >
          Continue <kbd>F8</kbd>
        </button>
      </div>
    </div>
  );
}

function OpReport({ op }: { op: TimelineOperation }) {
  if (!op.error && !op.fault && !op.leaks) return null;
  return (
    <div className={`tl-report${op.state === 'failed' ? ' failed' : ''}`} data-testid="timeline-report">
      {op.faultNote && <p>⚡ Fault: {op.faultNote}.</p>}
      {op.error && <p className="tl-error">✗ {op.error}</p>}
      {op.leaks &&
        (op.leaks.length ? (
          <div data-testid="timeline-leaks">
            <strong>What leaked</strong> ({op.leaks.length}):
            <ul>
              {op.leaks.map((l) => (
                <li key={l} className="mono">
                  {l}
                </li>
              ))}
            </ul>
          </div>
        ) : (
          <p data-testid="timeline-leaks">
            <strong>Nothing leaked:</strong> no interface, netns, IP reservation or cached result of this pod is left on{' '}
            {op.node}.
          </p>
        ))}
      {!op.leaks && (op.state === 'running' || op.state === 'paused') && op.fault && (
        <p className="muted">What leaked is checked when the operation ends.</p>
      )}
    </div>
  );
}

function StepList({
  op,
  steps,
  selected,
  onSelect,
}: {
  op: TimelineOperation;
  steps: TimelineStep[];
  selected: number | null;
  onSelect: (id: number) => void;
}) {
  // durations without the step-through waits, as the bars show them
  const at = compressor(op.pauses);
  return (
    <ol className="tl-steps" aria-label="Steps in order" data-testid="timeline-steps">
      {treeOrder(steps).map(({ step: s, depth }) => (
        <li key={s.id}>
          <button
            type="button"
            className={`tl-step${selected === s.id ? ' is-selected' : ''}${s.error ? ' has-error' : ''}`}
            onClick={() => onSelect(s.id)}
            data-testid="timeline-step-row"
            data-component={s.component}
            data-name={s.name}
            aria-pressed={selected === s.id}
          >
            <span className={`tl-chip lane-${s.component}`}>{s.component}</span>
            <span className="tl-step-name" style={{ paddingLeft: depth * 14 }}>
              {s.undo ? '↺ ' : ''}
              {s.name}
            </span>
            <span className="tl-step-dur mono">{s.end !== undefined ? formatMs(at(s.end) - at(s.start)) : '…'}</span>
            <span className="tl-step-sum muted">{s.error ? `✗ ${s.error}` : s.summary}</span>
          </button>
        </li>
      ))}
    </ol>
  );
}

export function TimelinePanel() {
  const lab = useLab();
  const model = timelineOf(lab);
  const running = useAppState((s) => s.world.state === 'running');
  const fidelity = useAppState((s) => s.world.fidelity);
  const ops = useTimeline(model, (s) => s.ops);
  const selectedOp = useTimeline(model, (s) => s.selectedOp);
  const steps = useTimeline(model, (s) => (s.selectedOp !== null ? (s.steps[s.selectedOp] ?? NO_STEPS) : NO_STEPS));
  const selectedStep = useTimeline(model, (s) => s.selectedStep);
  const detail = useTimeline(model, (s) => s.detail);
  const faultOpen = useTimeline(model, (s) => s.faultMenuOpen);
  const op = ops.find((o) => o.id === selectedOp);
  return (
    <div className="timeline" data-testid="timeline">
      <div className="tl-toolbar">
        <label className="tl-op-picker">
          <span className="muted">Operation</span>
          <select
            value={selectedOp ?? ''}
            onChange={(e) => void model.pick(Number(e.target.value))}
            disabled={!ops.length}
            data-testid="timeline-op"
            aria-label="Operation"
          >
            {!ops.length && <option value="">none yet</option>}
            {[...ops].reverse().map((o) => (
              <option key={o.id} value={o.id}>
                {opLabel(o)}
              </option>
            ))}
          </select>
        </label>
        <span className="spacer" />
        <button
          type="button"
          className="button small"
          disabled={!running}
          onClick={() => model.setFaultMenu(!faultOpen)}
          aria-expanded={faultOpen}
          data-testid="timeline-faults"
        >
          ⚡ Inject a fault…
        </button>
      </div>
      {fidelity ? (
        <div
          className="tl-fidelity muted"
          data-testid="timeline-fidelity"
          title={`The steps are a model of these components; the plugins, namespaces and links are real: ${fidelity.plugins}`}
        >
          Modelled: {fidelity.modelled} · with {fidelity.plugins}
        </div>
      ) : null}
      {faultOpen && running && <FaultMenu model={model} />}
      {!op ? (
        <div className="tl-empty muted">
          <p>
            {running
              ? 'No operation yet. Create or delete a pod (tick "step through" to pause before each step), inject a fault, or run kubectl apply in a node terminal.'
              : 'Start a world, then create a pod: its SyncPod appears here, step by step.'}
          </p>
        </div>
      ) : (
        <>
          <PauseBanner op={op} model={model} />
          <OpReport op={op} />
          <Swimlanes op={op} steps={steps} selected={selectedStep} onSelect={(id) => void model.selectStep(id)} />
          <div className="tl-bottom">
            <StepList op={op} steps={steps} selected={selectedStep} onSelect={(id) => void model.selectStep(id)} />
            <StepDetails detail={detail} pauses={op.pauses} />
          </div>
        </>
      )}
    </div>
  );
}
