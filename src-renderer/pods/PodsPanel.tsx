// The pods of the world: each with its node, IP and readiness, a terminal into its network
// namespace, and delete (kubelet's KillPod). Below them, the form that creates one (SyncPod).
import { useAppState, useLab } from '../state/context.ts';
import { PodCreateForm } from './PodCreateForm.tsx';
import { timelineOf } from '../timeline/timeline-model.ts';

export function PodsPanel() {
  const lab = useLab();
  const pods = useAppState((s) => s.pods);
  const busy = useAppState((s) => s.podsBusy);
  const running = useAppState((s) => s.world.state === 'running');
  return (
    <section className="section pods" aria-labelledby="pods-heading">
      <h2 id="pods-heading">
        Pods <span className="count">{pods.length}</span>
      </h2>
      {pods.length === 0 ? (
        <p className="muted">{running ? 'No pods yet: create one below.' : 'Start a world to create pods.'}</p>
      ) : (
        <ul className="pod-list" aria-label="Pods">
          {pods.map((p) => (
            <li key={p.name} className="pod-row" data-testid={`pod-row-${p.name}`}>
              <div className="pod-main">
                <span className="pod-name">{p.name}</span>
                <span
                  className={`badge ${p.ready ? 'badge-ok' : 'badge-wait'}`}
                  title={p.ready ? 'Ready' : 'Not ready'}
                >
                  {p.ready ? 'Ready' : 'NotReady'}
                </span>
              </div>
              <div className="pod-meta muted">
                <span title="node">{p.node}</span> ·{' '}
                <span title="pod IP (eth0)" className="mono">
                  {p.ip || 'no IP'}
                </span>
                <button
                  type="button"
                  className="pod-step-delete"
                  data-testid={`pod-step-delete-${p.name}`}
                  disabled={!running || !!busy[p.name]}
                  aria-label={`Delete pod ${p.name} step by step, in the timeline`}
                  title="KillPod, paused before each step, in the timeline"
                  onClick={() => void timelineOf(lab).deletePod(p.name, true)}
                >
                  step-through delete
                </button>
              </div>
              <div className="pod-actions">
                <button
                  className="button small"
                  data-testid={`pod-terminal-${p.name}`}
                  disabled={!running}
                  aria-label={`Open a terminal in pod ${p.name}`}
                  onClick={() => lab.openTerminal({ kind: 'pod', pod: p.name })}
                >
                  Terminal
                </button>
                <button
                  className="button small danger"
                  data-testid={`pod-delete-${p.name}`}
                  disabled={!running || !!busy[p.name]}
                  aria-label={`Delete pod ${p.name}`}
                  onClick={() => void lab.deletePod(p.name)}
                >
                  {busy[p.name] === 'deleting' ? 'Deleting…' : 'Delete'}
                </button>
              </div>
            </li>
          ))}
        </ul>
      )}
      <PodCreateForm />
    </section>
  );
}
