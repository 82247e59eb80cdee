// The pods of the world: each with its node, IP and readiness, a terminal into its network
// namespace, and delete (kubelet's KillPod; a pod of the API, made with kubectl, is deleted through the
// API). Below them, the form that creates one (SyncPod).
import type { PodInfo } from '../../src-main/api/contract.ts';
import { useAppState, useLab } from '../state/context.ts';
import { PodCreateForm } from './PodCreateForm.tsx';
import { timelineOf } from '../timeline/timeline-model.ts';

/** Ready / NotReady for the kubelet's pods; the API's pods say their phase as kubectl does (Pending, Terminating). */
function PodBadge({ pod: p }: { pod: PodInfo }) {
  const phase = p.phase ?? (p.ready ? 'Running' : 'Pending');
  const text = p.phase === 'Terminating' || p.phase === 'Pending' ? p.phase : p.ready ? 'Ready' : 'NotReady';
  const cls = text === 'Ready' ? 'badge-ok' : text === 'Terminating' ? 'badge-bad' : 'badge-wait';
  return (
    <span
      className={`badge ${cls}`}
      data-testid={`pod-phase-${p.name}`}
      data-phase={phase}
      title={`${phase}${p.ready ? ', Ready' : ', not ready'}`}
    >
      {text}
    </span>
  );
}

export function PodsPanel() {
  const lab = useLab();
  const pods = useAppState((s) => s.pods);
  const busy = useAppState((s) => s.podsBusy);
  const worldState = useAppState((s) => s.world.state);
  const running = worldState === 'running';
  return (
    <section className="section pods" aria-labelledby="pods-heading">
      <h2 id="pods-heading">
        Pods <span className="count">{pods.length}</span>
      </h2>
      {pods.length === 0 ? (
        <p className="muted">
          {running
            ? 'No pods yet: create one below.'
            : worldState === 'starting'
              ? 'The world is starting: pods can be created once it runs.'
              : 'Start a world to create pods.'}
        </p>
      ) : (
        <ul className="pod-list" aria-label="Pods">
          {pods.map((p) => (
            <li key={p.name} className="pod-row" data-testid={`pod-row-${p.name}`}>
              <div className="pod-main">
                <span className="pod-name">{p.name}</span>
                {p.fromApi ? (
                  <span
                    className="badge badge-api"
                    data-testid={`pod-api-${p.name}`}
                    title="An object of the world's API server (kubectl): the scheduler placed it, the kubelet runs it from its watch"
                  >
                    API
                  </span>
                ) : null}
                <PodBadge pod={p} />
              </div>
              <div className="pod-meta muted">
                <span title="node">{p.node || 'not scheduled'}</span> ·{' '}
                <span title="pod IP (eth0)" className="mono">
                  {p.ip || 'no IP'}
                </span>
                {p.fromApi ? null : (
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
                )}
              </div>
              <div className="pod-actions">
                <button
                  className="button small"
                  data-testid={`pod-terminal-${p.name}`}
                  disabled={!running || !p.netns}
                  aria-label={`Open a terminal in pod ${p.name}`}
                  onClick={() => lab.openTerminal({ kind: 'pod', pod: p.name })}
                >
                  Terminal
                </button>
                <button
                  className="button small danger"
                  data-testid={`pod-delete-${p.name}`}
                  disabled={!running || !!busy[p.name] || p.phase === 'Terminating'}
                  aria-label={`Delete pod ${p.name}`}
                  title={p.fromApi ? 'kubectl delete pod: the API marks it, its kubelet stops it' : 'KillPod'}
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
