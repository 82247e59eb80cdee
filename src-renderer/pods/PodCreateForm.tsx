// Creates a pod on a node. The name is checked as the engine will check it (the contract's own
// schema) so a typo is explained here, before any request.
import { useState, type FormEvent } from 'react';
import { useAppState, useLab } from '../state/context.ts';
import { timelineOf } from '../timeline/timeline-model.ts';

export function PodCreateForm() {
  const lab = useLab();
  const nodes = useAppState((s) => s.world.nodes);
  const running = useAppState((s) => s.world.state === 'running');
  const busy = useAppState((s) => s.podsBusy);
  const [name, setName] = useState('');
  const [node, setNode] = useState('');
  const [stepThrough, setStepThrough] = useState(false);
  const chosen = nodes.some((n) => n.name === node) ? node : (nodes[0]?.name ?? '');
  const problem = name ? lab.validatePod(name, chosen || 'node1') : undefined;
  const creating = Object.values(busy).includes('creating');

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!name || problem || !chosen) return;
    // step-through: the timeline runs SyncPod and pauses before each step
    if (await (stepThrough ? timelineOf(lab).createPod(name, chosen, true) : lab.createPod(name, chosen))) {
      setName('');
    }
  };

  return (
    <form className="pod-create" onSubmit={(e) => void submit(e)} aria-label="Create a pod">
      <div className="field-row">
        <input
          id="pod-create-name"
          data-testid="pod-create-name"
          aria-label="Pod name"
          placeholder="pod name, e.g. web"
          autoComplete="off"
          spellCheck={false}
          value={name}
          disabled={!running}
          aria-invalid={!!problem}
          aria-describedby={problem ? 'pod-create-problem' : undefined}
          onChange={(e) => setName(e.target.value.trim())}
        />
        <select
          data-testid="pod-create-node"
          aria-label="Node"
          value={chosen}
          disabled={!running}
          onChange={(e) => setNode(e.target.value)}
        >
          {nodes.length === 0 && <option value="">node</option>}
          {nodes.map((n) => (
            <option key={n.name} value={n.name}>
              {n.name}
            </option>
          ))}
        </select>
        <button
          className="button primary small"
          type="submit"
          data-testid="pod-create"
          disabled={!running || !name || !!problem || creating}
        >
          {creating ? 'Creating…' : 'Create'}
        </button>
      </div>
      <label className="pod-create-step muted">
        <input
          type="checkbox"
          data-testid="pod-create-step"
          checked={stepThrough}
          disabled={!running}
          onChange={(e) => setStepThrough(e.target.checked)}
        />{' '}
        step through (pause before each step, in the timeline)
      </label>
      {problem && (
        <p className="field-problem" id="pod-create-problem" role="alert">
          {problem}
        </p>
      )}
    </form>
  );
}
