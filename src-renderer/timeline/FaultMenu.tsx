// Faults for teaching: what will happen, in plain words, before it happens; the report after says
// what the runtime did and what was left behind. Every fault acts inside the world only.
import { useEffect, useState } from 'react';
import type { TimelineFault } from '../../src-main/api/contract.ts';
import { useAppState, useLab } from '../state/context.ts';
import type { TimelineModel } from './timeline-model.ts';

type Kind = 'plugin-fails' | 'remove-netns';

export function explainFault(kind: Kind, plugin: string, alsoDel: boolean, node: string, first: boolean): string {
  if (kind === 'remove-netns') {
    return (
      "The pod is deleted with kubelet's KillPod. Just before containerd's teardownPodNetwork, the pod's network namespace is deleted " +
      '(ip netns delete on its node), as if something else had removed it. containerd sees it is gone and still runs CNI DEL, with an empty ' +
      'CNI_NETNS: each plugin must release what it holds without the namespace. Afterwards the timeline lists what was left on the node.'
    );
  }
  const base =
    `For this one operation, a wrapper script is bound over /opt/cni/bin/${plugin || '…'} on ${node || '…'} (in that node's mounts only; removed when the operation ends). ` +
    `A new pod is created: when CNI ADD reaches ${plugin || 'the plugin'}, it prints a CNI error and exits 1. containerd then undoes what it made, in reverse: ` +
    'CNI DEL of the network (so host-local releases the IP), the network namespace, the sandbox name.';
  if (!alsoDel) return `${base} Nothing should be left.`;
  return (
    `${base} But ${plugin || 'the plugin'} fails on DEL too: libcni's DEL runs the chain in reverse and stops at that failure, so the plugins before it in the list never hear DEL. containerd 2.1 ignores the DEL error because setup never finished (no CNI result yet), removes the network namespace and releases the name (containerd 1.7 counted it: the sandbox stayed UNKNOWN). ` +
    (first
      ? `${plugin} is the first plugin: it fails before anything was reserved, so nothing leaks; pick a later plugin to see a leak.`
      : "The IP that host-local reserved during bridge's ADD stays on disk under /var/lib/cni/networks/…: a leak, which the timeline reports.")
  );
}

export function FaultMenu({ model }: { model: TimelineModel }) {
  const lab = useLab();
  const nodes = useAppState((s) => s.world.nodes);
  const pods = useAppState((s) => s.pods);
  const [kind, setKind] = useState<Kind>('plugin-fails');
  const [node, setNode] = useState('');
  const [plugins, setPlugins] = useState<string[]>([]);
  const [plugin, setPlugin] = useState('');
  const [alsoDel, setAlsoDel] = useState(false);
  const [name, setName] = useState('faulty');
  const [pod, setPod] = useState('');
  const [stepThrough, setStepThrough] = useState(false);
  const [busy, setBusy] = useState(false);
  const chosenNode = nodes.some((n) => n.name === node) ? node : (nodes[0]?.name ?? '');
  const chosenPod = pods.some((p) => p.name === pod) ? pod : (pods[0]?.name ?? '');

  useEffect(() => {
    if (!chosenNode) return;
    let live = true;
    lab.client.call('timeline.plugins', { node: chosenNode }).then(
      (r) => {
        if (!live) return;
        setPlugins(r.plugins);
        setPlugin((p) => (r.plugins.includes(p) ? p : (r.plugins[r.plugins.length - 1] ?? '')));
      },
      (e: unknown) => lab.notify((e as Error).message),
    );
    return () => {
      live = false;
    };
  }, [lab, chosenNode]);

  const problem =
    kind === 'plugin-fails'
      ? !plugin
        ? 'no plugin to make fail: the node has no network config'
        : lab.validatePod(name, chosenNode || 'node1')
      : !chosenPod
        ? 'no pod to delete: create one first'
        : undefined;
  const run = async () => {
    if (problem) return;
    setBusy(true);
    const fault: TimelineFault = kind === 'plugin-fails' ? { kind, plugin, on: alsoDel ? 'ADD+DEL' : 'ADD' } : { kind };
    const ok =
      kind === 'plugin-fails'
        ? await model.createPod(name, chosenNode, stepThrough, fault)
        : await model.deletePod(chosenPod, stepThrough, fault);
    setBusy(false);
    if (ok) model.setFaultMenu(false);
  };

  return (
    <div
      className="tl-faults"
      role="dialog"
      aria-label="Inject a fault"
      data-testid="fault-menu"
      onKeyDown={(e) => e.key === 'Escape' && model.setFaultMenu(false)}
    >
      <fieldset>
        <legend>Fault</legend>
        <label>
          <input
            type="radio"
            name="fault-kind"
            checked={kind === 'plugin-fails'}
            onChange={() => setKind('plugin-fails')}
            data-testid="fault-kind-plugin"
            autoFocus
          />{' '}
          A plugin fails on ADD (create a pod)
        </label>
        <label>
          <input
            type="radio"
            name="fault-kind"
            checked={kind === 'remove-netns'}
            onChange={() => setKind('remove-netns')}
            data-testid="fault-kind-netns"
          />{' '}
          Remove the netns before DEL (delete a pod)
        </label>
      </fieldset>
      {kind === 'plugin-fails' ? (
        <div className="field-row">
          <label>
            Node{' '}
            <select value={chosenNode} onChange={(e) => setNode(e.target.value)} data-testid="fault-node">
              {nodes.map((n) => (
                <option key={n.name}>{n.name}</option>
              ))}
            </select>
          </label>
          <label>
            Plugin{' '}
            <select value={plugin} onChange={(e) => setPlugin(e.target.value)} data-testid="fault-plugin">
              {plugins.map((p) => (
                <option key={p}>{p}</option>
              ))}
            </select>
          </label>
          <label>
            <input
              type="checkbox"
              checked={alsoDel}
              onChange={(e) => setAlsoDel(e.target.checked)}
              data-testid="fault-also-del"
            />{' '}
            and on DEL
          </label>
          <label>
            New pod{' '}
            <input
              value={name}
              onChange={(e) => setName(e.target.value.trim())}
              spellCheck={false}
              aria-label="New pod name"
              data-testid="fault-pod-name"
            />
          </label>
        </div>
      ) : (
        <div className="field-row">
          <label>
            Pod{' '}
            <select value={chosenPod} onChange={(e) => setPod(e.target.value)} data-testid="fault-pod">
              {pods.map((p) => (
                <option key={p.name}>{p.name}</option>
              ))}
            </select>
          </label>
        </div>
      )}
      <p className="tl-explain" data-testid="fault-explain">
        {explainFault(kind, plugin, alsoDel, chosenNode, plugins[0] === plugin)}
      </p>
      {problem && <p className="field-problem">{problem}</p>}
      <div className="field-row">
        <label>
          <input
            type="checkbox"
            checked={stepThrough}
            onChange={(e) => setStepThrough(e.target.checked)}
            data-testid="fault-step"
          />{' '}
          Step through
        </label>
        <span className="spacer" />
        <button type="button" className="button small" onClick={() => model.setFaultMenu(false)}>
          Cancel
        </button>
        <button
          type="button"
          className="button primary small"
          disabled={!!problem || busy}
          onClick={() => void run()}
          data-testid="fault-run"
        >
          {busy ? 'Starting…' : kind === 'plugin-fails' ? 'Create with the fault' : 'Delete with the fault'}
        </button>
      </div>
    </div>
  );
}
