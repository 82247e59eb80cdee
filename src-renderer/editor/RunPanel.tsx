// The run panel: the editor's text run with a CNI verb against a pod of the node or a new one, and what
// came back: the result or the error (code, message, details, what the code means), each plugin's
// stdin and stdout in the chain, and what changed in the pod's and the node's links, addresses, routes.
import { useCallback, useEffect, useState } from 'react';
import type { Params, RunReport, RunTargetInfo } from '../../src-main/api/contract.ts';
import { useAppState, useLab } from '../state/context.ts';
import { editorCommands } from './commands.ts';

const VERBS = ['ADD', 'CHECK', 'DEL', 'VERSION', 'STATUS', 'GC'] as const;
type Verb = (typeof VERBS)[number];
const VERB_TIPS: Record<Verb, string> = {
  ADD: 'Each plugin in order, each fed the previous result',
  CHECK: 'Each plugin checks the cached result is still true (cniVersion 0.4.0 or later)',
  DEL: 'Each plugin in reverse order, with the cached result',
  VERSION: 'Which spec versions each plugin speaks',
  STATUS: "Whether the plugins are ready (spec 1.1.0; Debian's plugins 1.1.1 speak up to 1.0.0)",
  GC: 'Delete cached attachments no pod uses; GC verb for 1.1.0 plugins',
};

const pretty = (s: string) => {
  try {
    return JSON.stringify(JSON.parse(s), null, 2);
  } catch {
    return s;
  }
};

export function RunPanel({ node, name, text }: { node: string; name: string; text: () => string }) {
  const lab = useLab();
  const allPods = useAppState((s) => s.pods);
  const pods = allPods.filter((p) => p.node === node);
  const [targets, setTargets] = useState<RunTargetInfo[]>([]);
  const [choice, setChoice] = useState('new');
  const [newName, setNewName] = useState('try1');
  const [runningVerb, setRunningVerb] = useState<Verb | null>(null);
  const [report, setReport] = useState<RunReport | null>(null);

  const loadTargets = useCallback(async () => {
    try {
      setTargets((await lab.client.call('config.targets', { node })).filter((t) => t.kind === 'new'));
    } catch {
      setTargets([]);
    }
  }, [lab, node]);
  useEffect(() => void loadTargets(), [loadTargets]);

  const run = useCallback(
    async (verb: Verb) => {
      const target = (): Params<'config.run'>['target'] => {
        if (choice.startsWith('pod:')) return { kind: 'pod', pod: choice.slice(4) };
        if (choice.startsWith('new:')) return { kind: 'new', name: choice.slice(4) };
        return { kind: 'new', name: newName };
      };
      setRunningVerb(verb);
      try {
        const r = await lab.client.call('config.run', { node, name, text: text(), verb, target: target() });
        setReport(r);
        if (r.target?.kind === 'new') setChoice(r.target.attached ? `new:${r.target.name}` : 'new');
        await loadTargets();
      } catch (e) {
        lab.notify(`${verb}: ${(e as Error).message}`);
      } finally {
        setRunningVerb(null);
      }
    },
    [lab, node, name, text, choice, newName, loadTargets],
  );

  useEffect(() => {
    editorCommands.runAdd = () => void run('ADD');
    return () => void delete editorCommands.runAdd;
  }, [run]);

  const ips = (report?.result as { ips?: { address: string; gateway?: string }[] } | undefined)?.ips ?? [];
  return (
    <section className="cni-run" aria-label="Run panel" data-testid="cni-run">
      <div className="cni-run-bar">
        <label>
          Against{' '}
          <select data-testid="cni-target" value={choice} onChange={(e) => setChoice(e.target.value)}>
            <option value="new">a new pod…</option>
            {targets.map((t) => (
              <option key={t.name} value={`new:${t.name}`}>
                {t.name} (editor's, {t.netns})
              </option>
            ))}
            {pods.map((p) => (
              <option key={p.name} value={`pod:${p.name}`}>
                pod {p.name} ({p.ip || 'no IP'})
              </option>
            ))}
          </select>
        </label>
        {choice === 'new' ? (
          <input
            className="cni-new-name"
            aria-label="New pod name"
            data-testid="cni-new-name"
            value={newName}
            onChange={(e) => setNewName(e.target.value)}
            spellCheck={false}
          />
        ) : null}
        <span className="cni-verbs" role="group" aria-label="CNI verbs">
          {VERBS.map((v) => (
            <button
              className="button small"
              key={v}
              data-testid={`cni-run-${v}`}
              title={VERB_TIPS[v]}
              disabled={runningVerb !== null}
              onClick={() => void run(v)}
            >
              {v}
            </button>
          ))}
        </span>
        {runningVerb ? (
          <span className="muted" aria-live="polite" data-testid="cni-running">
            running {runningVerb}…
          </span>
        ) : null}
      </div>
      {report ? (
        <div className="cni-report" data-testid="cni-report" data-ok={report.ok}>
          <div className={`cni-outcome ${report.ok ? 'ok' : 'bad'}`} data-testid="cni-outcome">
            <strong>
              {report.verb}{' '}
              {!report.execs.length && report.note
                ? report.ok
                  ? 'sent nothing'
                  : 'not run'
                : report.ok
                  ? 'succeeded'
                  : 'failed'}
            </strong>
            {report.target ? (
              <span className="muted">
                {' '}
                ·{' '}
                {report.target.kind === 'pod'
                  ? `pod ${report.target.name}`
                  : `${report.target.name} (${report.target.netns})`}
              </span>
            ) : null}
            {ips.map((ip) => (
              <span key={ip.address} className="cni-ip" data-testid="cni-ip">
                {ip.address}
                {ip.gateway ? ` via ${ip.gateway}` : ''}
              </span>
            ))}
            {report.note ? <div className="muted">{report.note}</div> : null}
          </div>
          {report.error ? (
            <div className="cni-error" data-testid="cni-error">
              {report.error.code !== undefined ? (
                <div>
                  <strong>
                    {report.error.plugin}: code {report.error.code}
                  </strong>{' '}
                  — {report.error.meaning}
                </div>
              ) : null}
              {/* libcni's words (plugin type="bridge" failed (add): msg; details), as containerd logs them */}
              <div data-testid="cni-error-message">{report.error.message}</div>
            </div>
          ) : null}
          {report.versions ? (
            <table className="cni-table">
              <tbody>
                {report.versions.map((v) => (
                  <tr key={v.plugin}>
                    <td>{v.plugin}</td>
                    <td>{v.supportedVersions.join(', ')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          <div className="cni-columns">
            <div className="cni-execs" aria-label="Plugins">
              <h4 title="An IPAM plugin (host-local, static, dhcp) is run by its main plugin, not by the runtime: its answer is inside the main plugin's stdout">
                Plugins ({report.execs.length}) <span className="muted">· IPAM runs inside its main plugin</span>
              </h4>
              {report.execs.map((x, i) => (
                <details key={i} className="cni-exec" data-testid="cni-exec" open={i === 0}>
                  <summary>
                    <span className={x.exitCode === 0 ? 'ok' : 'bad'}>{x.plugin}</span> {x.command} · exit{' '}
                    {x.exitCode ?? '–'} · {x.ms} ms
                  </summary>
                  <div className="cni-io">
                    <div>
                      <div className="muted">stdin</div>
                      <pre>{pretty(x.stdin)}</pre>
                    </div>
                    <div>
                      <div className="muted">stdout</div>
                      <pre data-testid="cni-exec-stdout">{pretty(x.stdout) || '(empty)'}</pre>
                      {x.stderr ? (
                        <>
                          <div className="muted">stderr</div>
                          <pre>{x.stderr}</pre>
                        </>
                      ) : null}
                    </div>
                  </div>
                </details>
              ))}
            </div>
            <div className="cni-diff" aria-label="Changes">
              <h4>Changes ({report.diff.length})</h4>
              <ul data-testid="cni-diff">
                {report.diff.map((d, i) => (
                  <li key={i} className={`cni-diff-${d.change}`}>
                    <span className="cni-diff-mark">
                      {d.change === 'added' ? '+' : d.change === 'removed' ? '−' : '~'}
                    </span>{' '}
                    <span className="muted">
                      {d.where} {d.table}
                    </span>{' '}
                    {d.text}
                  </li>
                ))}
                {!report.diff.length ? <li className="muted">nothing changed</li> : null}
              </ul>
            </div>
          </div>
        </div>
      ) : (
        <div className="muted cni-run-hint">
          Run the text in the editor (saved or not) against a pod: ADD makes a new pod's network, DEL takes it down.
        </div>
      )}
    </section>
  );
}
