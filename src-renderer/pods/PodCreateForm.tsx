// Creates a pod on a node, optionally with a hostPort for its httpd (port 80), bandwidth annotations
// and hostNetwork. The fields are checked as the engine will check them (the contract's own schema)
// so a typo is explained here, before any request; a bandwidth containerd refuses fails the pod.
import { useState, type FormEvent } from 'react';
import type { PodOptions } from '../../src-main/api/contract.ts';
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
  const [hostPort, setHostPort] = useState('');
  const [ingress, setIngress] = useState('');
  const [egress, setEgress] = useState('');
  const [hostNetwork, setHostNetwork] = useState(false);
  const chosen = nodes.some((n) => n.name === node) ? node : (nodes[0]?.name ?? '');
  const annotations: Record<string, string> = {
    ...(ingress ? { 'kubernetes.io/ingress-bandwidth': ingress } : {}),
    ...(egress ? { 'kubernetes.io/egress-bandwidth': egress } : {}),
  };
  const options: PodOptions = {
    ...(hostPort ? { hostPort: Number(hostPort) } : {}),
    ...(Object.keys(annotations).length ? { annotations } : {}),
    ...(hostNetwork ? { hostNetwork } : {}),
  };
  const problem = name || hostPort ? lab.validatePod(name || 'pod', chosen || 'node1', options) : undefined;
  const creating = Object.values(busy).includes('creating');

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!name || problem || !chosen) return;
    // step-through: the timeline runs SyncPod and pauses before each step
    if (
      await (stepThrough
        ? timelineOf(lab).createPod(name, chosen, true, undefined, options)
        : lab.createPod(name, chosen, options))
    ) {
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
      <details className="pod-create-options">
        <summary className="muted">hostPort, bandwidth, hostNetwork</summary>
        <div className="field-row">
          <input
            data-testid="pod-create-hostport"
            aria-label="hostPort for the pod's port 80"
            placeholder="hostPort → :80"
            inputMode="numeric"
            value={hostPort}
            disabled={!running}
            onChange={(e) => setHostPort(e.target.value.trim())}
          />
          <input
            data-testid="pod-create-ingress"
            aria-label="kubernetes.io/ingress-bandwidth"
            placeholder="ingress, e.g. 10M"
            value={ingress}
            disabled={!running}
            onChange={(e) => setIngress(e.target.value.trim())}
          />
          <input
            data-testid="pod-create-egress"
            aria-label="kubernetes.io/egress-bandwidth"
            placeholder="egress, e.g. 10M"
            value={egress}
            disabled={!running}
            onChange={(e) => setEgress(e.target.value.trim())}
          />
        </div>
        <label className="muted">
          <input
            type="checkbox"
            data-testid="pod-create-hostnetwork"
            checked={hostNetwork}
            disabled={!running}
            onChange={(e) => setHostNetwork(e.target.checked)}
          />{' '}
          hostNetwork (the node's network: no netns, no CNI)
        </label>
      </details>
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
