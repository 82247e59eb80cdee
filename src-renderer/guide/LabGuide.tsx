// The lab guide: the catalogue, and for the open lab its current step — prose rendered safely,
// commands that run in their named terminal, checks that turn green live (with expected vs found
// when failing), hints chosen by the checks' state, questions, the solution, reset and jump.
import { useEffect, useRef, useState } from 'react';
import type { LabCheckResult, LabCommand, LabStep, LabSummary, LabView } from '../../src-main/api/contract.ts';
import { useLab } from '../state/context.ts';
import { guideOf, useGuide, type Guide } from './guide-store.ts';
import { Markdown } from './markdown.tsx';
import './guide.css';

export function LabGuide() {
  const guide = guideOf(useLab());
  const view = useGuide(guide, (s) => s.view);
  const catalogue = useGuide(guide, (s) => s.catalogue);
  const pending = useGuide(guide, (s) => s.pending);
  return (
    <section className="section guide" aria-labelledby="guide-heading">
      {view ? (
        <OpenLab guide={guide} view={view} pending={pending} />
      ) : (
        <Catalogue guide={guide} labs={catalogue} pending={pending} />
      )}
    </section>
  );
}

function Catalogue({ guide, labs, pending }: { guide: Guide; labs: LabSummary[] | null; pending: string | null }) {
  return (
    <>
      <h2 id="guide-heading">Labs</h2>
      {pending && <Busy text={pending} />}
      {labs === null ? (
        <p className="muted">Reading the labs…</p>
      ) : labs.length === 0 ? (
        <p className="muted">No labs found. Authors: podnet lab new NAME.</p>
      ) : (
        <ul className="lab-catalogue" data-testid="lab-catalogue" aria-label="Labs">
          {labs.map((l) => (
            <li key={l.id}>
              <button
                className="lab-card"
                data-testid={`lab-open-${l.id}`}
                disabled={!!pending || !!l.error}
                onClick={() => void guide.open(l.id)}
                title={l.error ?? l.summary}
              >
                <span className="lab-card-title">{l.title}</span>
                <span className="lab-card-meta muted">
                  {l.level} · {l.duration} min · {l.steps} steps · {l.nodes} node{l.nodes === 1 ? '' : 's'}
                  {l.done.length > 0 && (
                    <span className="lab-card-progress">
                      {' '}
                      · {l.done.length}/{l.steps} done
                    </span>
                  )}
                </span>
                {l.error ? (
                  <span className="lab-card-error">{l.error}</span>
                ) : (
                  <span className="lab-card-summary">{l.summary}</span>
                )}
                {l.progressNotice && (
                  <span className="lab-card-notice" role="note" data-testid={`lab-progress-notice-${l.id}`}>
                    {l.progressNotice}
                  </span>
                )}
              </button>
            </li>
          ))}
        </ul>
      )}
    </>
  );
}

function Busy({ text }: { text: string }) {
  return (
    <div className="lab-busy" role="status" data-testid="lab-busy">
      <span className="spinner" aria-hidden="true" /> {text}…
    </div>
  );
}

function unlockedUpTo(view: LabView): number {
  let i = 0;
  while (view.done.includes(i)) i++;
  return Math.min(i, view.steps.length - 1);
}

function OpenLab({ guide, view, pending }: { guide: Guide; view: LabView; pending: string | null }) {
  const step = view.steps[view.current]!;
  const checks = useGuide(guide, (s) => s.checks);
  const results = checks && checks.step === view.current ? checks.results : null;
  const busy = view.busy ?? pending;
  const unlocked = unlockedUpTo(view);
  const done = view.done.includes(view.current);
  const last = view.current === view.steps.length - 1;
  const top = useRef<HTMLDivElement>(null);
  const stepIndex = view.current;
  // a new step starts at its top (the pane may be scrolled far down the previous one)
  useEffect(() => {
    top.current?.scrollIntoView({ block: 'start' });
  }, [view.id, stepIndex]);
  return (
    <>
      <div className="lab-head" ref={top}>
        <h2 id="guide-heading" title={view.summary}>
          {view.title}
        </h2>
        <div className="lab-head-actions">
          <button
            className="button small ghost"
            data-testid="lab-catalogue-back"
            onClick={() => void guide.close()}
            disabled={!!busy}
          >
            All labs
          </button>
          <button
            className="button small"
            data-testid="lab-reset"
            onClick={() => void guide.reset()}
            disabled={!!busy}
            title="A fresh world at step 1 (progress cleared)"
          >
            Reset
          </button>
        </div>
      </div>
      <nav className="lab-steps" aria-label="Steps">
        {view.steps.map((s) => {
          const state = view.done.includes(s.index) ? 'done' : s.index <= unlocked ? 'open' : 'locked';
          return (
            <button
              key={s.index}
              className={`lab-pill ${state}${s.index === view.current ? ' current' : ''}`}
              data-testid={`lab-step-pill-${s.index}`}
              aria-current={s.index === view.current ? 'step' : undefined}
              aria-label={`Step ${s.index + 1}: ${s.title} (${state})`}
              title={
                state === 'locked'
                  ? `${s.title} — locked: jump to it to rebuild the world with the earlier solutions`
                  : s.title
              }
              disabled={!!busy}
              onClick={() => void (state === 'locked' ? guide.jump(s.index) : guide.goto(s.index))}
            >
              {state === 'done' ? '✓' : s.index + 1}
            </button>
          );
        })}
        <select
          className="lab-jump"
          data-testid="lab-jump"
          aria-label="Jump to a step (fresh world, earlier solutions applied)"
          value=""
          disabled={!!busy}
          onChange={(e) => e.target.value !== '' && void guide.jump(Number(e.target.value))}
        >
          <option value="">Jump to…</option>
          {view.steps.map((s) => (
            <option key={s.index} value={s.index}>
              {s.index + 1}. {s.title}
            </option>
          ))}
        </select>
      </nav>
      {busy && <Busy text={busy} />}
      {view.notice && (
        <p className="lab-notice" role="alert">
          {view.notice}
        </p>
      )}
      <article className="lab-step" aria-labelledby="lab-step-title">
        <h3 id="lab-step-title" data-testid="lab-step-title">
          <span className="muted">
            Step {view.current + 1}/{view.steps.length} ·{' '}
          </span>
          {step.title}
        </h3>
        {step.body.map((b, i) =>
          b.kind === 'markdown' ? (
            <Markdown key={i} text={b.text} />
          ) : (
            <Command key={i} guide={guide} step={step} index={b.index} busy={!!busy} />
          ),
        )}
        <Questions guide={guide} step={step} view={view} />
        <Checks results={results} step={step} />
        <div className="lab-actions">
          <button
            className="button primary small"
            data-testid="lab-check-button"
            onClick={() => void guide.check()}
            disabled={!!busy}
          >
            Check
          </button>
          <Hints guide={guide} step={step} results={results} />
          {done && !last && (
            <button
              className="button primary small lab-next"
              data-testid="lab-next"
              onClick={() => void guide.goto(view.current + 1)}
              disabled={!!busy}
            >
              Next step →
            </button>
          )}
        </div>
        {done && last && (
          <p className="lab-complete" data-testid="lab-complete">
            Lab complete: every step's checks pass.
          </p>
        )}
        <Solution guide={guide} step={step} busy={!!busy} />
      </article>
    </>
  );
}

function Command({ guide, step, index, busy }: { guide: Guide; step: LabStep; index: number; busy: boolean }) {
  const c = step.commands[index]!;
  return (
    <div className="lab-cmd" data-testid={`lab-cmd-${index}`}>
      <div className="lab-cmd-bar">
        <span className="lab-cmd-target mono">
          {c.copyOnly ? 'copy' : c.target === 'kubelet' ? 'kubelet' : `terminal ${c.target}`}
        </span>
        <span className="lab-cmd-buttons">
          {!c.copyOnly && (
            <button
              className="button small primary"
              data-testid={`lab-cmd-run-${index}`}
              disabled={busy}
              onClick={() => void guide.run(step.index, index)}
              aria-label={c.target === 'kubelet' ? `Run on the kubelet: ${c.text}` : `Run in ${c.target}: ${c.text}`}
            >
              ▶ Run
            </button>
          )}
          <button className="button small ghost" onClick={() => void guide.copy(c.text)} aria-label={`Copy: ${c.text}`}>
            Copy
          </button>
        </span>
      </div>
      <pre className="lab-cmd-text">
        <code>{c.text}</code>
      </pre>
    </div>
  );
}

function Checks({ results, step }: { results: LabCheckResult[] | null; step: LabStep }) {
  return (
    <div className="lab-checks" aria-label="Checks" aria-live="polite">
      <h4>Checks</h4>
      <ul>
        {step.checks.map((c) => {
          const r = results?.find((x) => x.id === c.id);
          const state = !r ? 'unknown' : r.ok ? 'ok' : 'fail';
          return (
            <li key={c.id} className={`lab-check ${state}`} data-testid={`lab-check-${c.id}`} data-state={state}>
              <span
                className="lab-check-icon"
                aria-label={state === 'ok' ? 'passes' : state === 'fail' ? 'fails' : 'not checked yet'}
              >
                {state === 'ok' ? '✓' : state === 'fail' ? '✗' : '○'}
              </span>
              <span className="lab-check-title">{c.title}</span>
              {r && !r.ok && (
                <dl className="lab-check-diff">
                  <dt>expected</dt>
                  <dd>{r.expected}</dd>
                  <dt>found</dt>
                  <dd className="mono">{r.found}</dd>
                </dl>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}

/** Hints in order, each revealed by a click; a hint tied to a check is offered only while that check fails. */
function Hints({ guide, step, results }: { guide: Guide; step: LabStep; results: LabCheckResult[] | null }) {
  const shown = useGuide(guide, (s) => s.hintsShown[step.index] ?? 0);
  const failing = (id: string) => results?.some((r) => r.id === id && !r.ok) ?? true;
  const applicable = step.hints.filter((h) => !h.whenFailing || failing(h.whenFailing));
  if (applicable.length === 0) return null;
  return (
    <>
      {shown < applicable.length && (
        <button className="button small" data-testid="lab-hint" onClick={() => guide.nextHint(step.index)}>
          Hint{applicable.length > 1 ? ` (${Math.min(shown + 1, applicable.length)}/${applicable.length})` : ''}
        </button>
      )}
      {applicable.slice(0, shown).map((h, i) => (
        <div key={i} className="lab-hint" role="note">
          <Markdown text={h.text} />
        </div>
      ))}
    </>
  );
}

function Questions({ guide, step, view }: { guide: Guide; step: LabStep; view: LabView }) {
  const answered = useGuide(guide, (s) => s.answered);
  const [draft, setDraft] = useState<Record<string, string>>({});
  if (!step.questions.length) return null;
  return (
    <div className="lab-questions">
      {step.questions.map((q) => {
        const kept = view.answers[q.id];
        const a = answered[q.id];
        return (
          <form
            key={q.id}
            className="lab-question"
            data-testid={`lab-question-${q.id}`}
            onSubmit={(e) => {
              e.preventDefault();
              void guide.answer(q.id, draft[q.id] ?? '');
            }}
          >
            <label htmlFor={`q-${q.id}`}>{q.ask}</label>
            {kept !== undefined ? (
              <span className="lab-answer ok">✓ {kept}</span>
            ) : (
              <span className="lab-answer-row">
                <input
                  id={`q-${q.id}`}
                  className="input"
                  value={draft[q.id] ?? ''}
                  onChange={(e) => setDraft({ ...draft, [q.id]: e.target.value })}
                />
                <button className="button small" type="submit">
                  Answer
                </button>
                {a && !a.correct && <span className="lab-answer fail">not quite: look again</span>}
              </span>
            )}
          </form>
        );
      })}
    </div>
  );
}

function Solution({ guide, step, busy }: { guide: Guide; step: LabStep; busy: boolean }) {
  const shown = useGuide(guide, (s) => !!s.solutionShown[step.index]);
  return (
    <div className="lab-solution">
      {!shown ? (
        <button
          className="button small ghost"
          data-testid="lab-solution-show"
          onClick={() => guide.showSolution(step.index)}
        >
          Show solution
        </button>
      ) : (
        <>
          <h4>Solution</h4>
          {step.solution.map((c: LabCommand, i) => (
            <div key={i} className="lab-cmd">
              <div className="lab-cmd-bar">
                <span className="lab-cmd-target mono">
                  {c.target === 'kubelet' ? 'kubelet' : `terminal ${c.target}`}
                </span>
              </div>
              <pre className="lab-cmd-text">
                <code>{c.text}</code>
              </pre>
            </div>
          ))}
          <button
            className="button small"
            data-testid="lab-solution-apply"
            disabled={busy}
            onClick={() => void guide.applySolution()}
          >
            Apply solution
          </button>
        </>
      )}
    </div>
  );
}
