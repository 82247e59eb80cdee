// The lab guide: the catalogue, and for the open lab its current step — prose rendered safely,
// commands that run in their named terminal, checks that turn green live (with expected vs found
// when failing), hints chosen by the checks' state, questions, the solution, reset and jump.
import { useEffect, useRef, useState } from 'react';
import type { LabCheckResult, LabCommand, LabStep, LabSummary, LabView } from '../../src-main/api/contract.ts';
import { runNamed } from '../actions.ts';
import { showShortcut } from '../palette/shortcut.ts';
import { useLab } from '../state/context.ts';
import { applyDirective, describeDirective } from './directives.ts';
import { guideOf, useGuide, type Guide } from './guide-store.ts';
import { LabCard } from './Home.tsx';
import { Markdown } from './markdown.tsx';
import { duration, groupLabs, nextLab } from './path.ts';
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

/** Free play's guide pane: the path, compact; opening a lab asks first (it builds its own world). */
function Catalogue({ guide, labs, pending }: { guide: Guide; labs: LabSummary[] | null; pending: string | null }) {
  const lab = useLab();
  return (
    <>
      <div className="lab-head">
        <h2 id="guide-heading">Labs</h2>
        <FoldButton />
      </div>
      {pending && <Busy text={pending} />}
      {labs === null ? (
        <p className="muted">Reading the labs…</p>
      ) : labs.length === 0 ? (
        <p className="muted">No labs found. Authors: podnet lab new NAME.</p>
      ) : (
        groupLabs(labs).map((g) => (
          <div key={g.title} className="path-group compact">
            <h3>{g.title}</h3>
            <ul className="lab-catalogue" data-testid="lab-catalogue" aria-label={g.title}>
              {g.labs.map((l) => (
                <li key={l.id}>
                  <LabCard l={l} busy={!!pending} onOpen={() => void guide.open(l.id)} />
                </li>
              ))}
            </ul>
          </div>
        ))
      )}
      <p className="muted guide-home-link">
        <button className="button small ghost" onClick={() => runNamed('home', lab)}>
          ← Home
        </button>
      </p>
    </>
  );
}

function FoldButton() {
  const lab = useLab();
  return (
    <button
      className="icon-button"
      data-testid="guide-collapse"
      onClick={() => lab.toggleGuide()}
      aria-label={`Fold the guide (${showShortcut('Alt+G')})`}
      title={`Fold the guide (${showShortcut('Alt+G')})`}
    >
      «
    </button>
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
  const lab = useLab();
  const step = view.steps[view.current]!;
  const acted = useGuide(guide, (s) => !!s.acted[view.current]);
  const nextBlock = useGuide(guide, (s) => s.nextBlock[view.current] ?? 0);
  const catalogue = useGuide(guide, (s) => s.catalogue);
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
            onClick={() => runNamed('home', lab)}
            disabled={!!busy}
            title="Home: all labs (this lab keeps its progress)"
          >
            All labs
          </button>
          <button
            className="button small"
            data-testid="lab-reset"
            onClick={() => void guide.reset()}
            disabled={!!busy}
            title="Reset the lab: a fresh world at step 1, progress cleared (asks first)"
          >
            Reset lab…
          </button>
          <FoldButton />
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
                  ? `${s.title} — not reached yet: going there rebuilds the world with the earlier solutions (asks first)`
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
          aria-label="Jump to a step (rebuilds the world with the earlier solutions; asks first)"
          title="Jump to a step: rebuilds the world with the earlier solutions (asks first)"
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
          ) : b.kind === 'tools' ? (
            <Tools key={i} guide={guide} step={step} index={b.index} />
          ) : (
            <Command
              key={i}
              guide={guide}
              step={step}
              index={b.index}
              busy={!!busy}
              next={b.index === firstRunnable(step, nextBlock)}
            />
          ),
        )}
        <Questions guide={guide} step={step} view={view} />
        <Checks results={results} step={step} acted={acted || done} />
        <div className="lab-actions">
          <button
            className="button primary small"
            data-testid="lab-check-button"
            onClick={() => void guide.checkAndGoOn()}
            disabled={!!busy}
            title={`Check this step, and go on when it passes (${showShortcut('Ctrl+Shift+Enter')})`}
          >
            Check <kbd className="on-primary">{showShortcut('Ctrl+Shift+Enter')}</kbd>
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
        {done && last && <Complete guide={guide} view={view} labs={catalogue} onHome={() => runNamed('home', lab)} />}
        <Solution guide={guide} step={step} busy={!!busy} />
      </article>
    </>
  );
}

/**
 * A command's text that wraps only where it has a space: each word is unbreakable (CSS alone would also
 * break after a "-" or inside a long address), a word longer than the line scrolls.
 */
function AtSpaces({ text }: { text: string }) {
  return (
    <>
      {text.split(/( +|\n)/).map((part, i) =>
        part === '' || part === '\n' || part.startsWith(' ') ? (
          part
        ) : (
          <span key={i} className="word">
            {part}
          </span>
        ),
      )}
    </>
  );
}

/** The block "run the next block" runs next (the first runnable from `from`); -1 once every block has run. */
function firstRunnable(step: LabStep, from: number): number {
  return step.commands.findIndex((c, j) => j >= from && !c.copyOnly);
}

/** "Lab complete": the time it took, and the way on — the next lab on the path, or home. */
function Complete({
  guide,
  view,
  labs,
  onHome,
}: {
  guide: Guide;
  view: LabView;
  labs: LabSummary[] | null;
  onHome: () => void;
}) {
  const next = labs ? nextLab(labs, view.id) : undefined;
  return (
    <div className="lab-complete" data-testid="lab-complete" role="status">
      <p>
        <strong>Lab complete</strong> — every step’s checks pass. Time spent:{' '}
        <span data-testid="lab-time-spent">{duration(view.timeSpentMs)}</span>.
      </p>
      <div className="lab-complete-actions">
        {next ? (
          <button
            className="button primary"
            data-testid="lab-next-lab"
            onClick={() => void guide.open(next.id, { ask: false })}
            title="Opens the next lab: it builds its own world (this one's ends)"
          >
            Next lab: {next.title} →
          </button>
        ) : (
          <span className="muted">That was the last lab of the path.</span>
        )}
        <button className="button" onClick={onHome}>
          All labs
        </button>
      </div>
    </div>
  );
}

/** A ```tools block: what the step opened and pointed, as a button to do it again. */
function Tools({ guide, step, index }: { guide: Guide; step: LabStep; index: number }) {
  const d = step.tools?.[index];
  if (!d) return null;
  return (
    <div className="lab-tools" data-testid={`lab-tools-${index}`}>
      <button
        className="button small ghost"
        onClick={() => void applyDirective(guide, d)}
        title="Open and point the tools again"
      >
        <span aria-hidden="true">⇢</span> {describeDirective(d)}
      </button>
    </div>
  );
}

function Command({
  guide,
  step,
  index,
  busy,
  next,
}: {
  guide: Guide;
  step: LabStep;
  index: number;
  busy: boolean;
  next: boolean;
}) {
  const c = step.commands[index]!;
  return (
    <div className={`lab-cmd${next ? ' next' : ''}`} data-testid={`lab-cmd-${index}`} data-next={next || undefined}>
      <div className="lab-cmd-bar">
        <span className="lab-cmd-target mono">
          {c.copyOnly ? 'copy' : c.target === 'kubelet' ? 'kubelet' : `terminal ${c.target}`}
        </span>
        {c.fails && (
          <span
            className="lab-cmd-fails"
            data-testid={`lab-cmd-fails-${index}`}
            title="This block fails on purpose: its error is what the step teaches"
          >
            fails on purpose
          </span>
        )}
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
              {next && <kbd className="on-primary">{showShortcut('Alt+Enter')}</kbd>}
            </button>
          )}
          <button className="button small ghost" onClick={() => void guide.copy(c.text)} aria-label={`Copy: ${c.text}`}>
            Copy
          </button>
        </span>
      </div>
      <pre className="lab-cmd-text">
        <code>
          <AtSpaces text={c.text} />
        </code>
      </pre>
    </div>
  );
}

/** A failing check shows as failing only once the learner has acted on the step (ran, typed, pressed Check). */
function Checks({ results, step, acted }: { results: LabCheckResult[] | null; step: LabStep; acted: boolean }) {
  return (
    <div className="lab-checks" aria-label="Checks" aria-live="polite">
      <h4>
        Checks{' '}
        {!acted && <span className="muted lab-checks-note">— they turn green as you work; none is failed yet</span>}
      </h4>
      <ul>
        {step.checks.map((c) => {
          const r = results?.find((x) => x.id === c.id);
          const state = !r || (!r.ok && !acted) ? 'unknown' : r.ok ? 'ok' : 'fail';
          return (
            <li key={c.id} className={`lab-check ${state}`} data-testid={`lab-check-${c.id}`} data-state={state}>
              <span
                className="lab-check-icon"
                aria-label={state === 'ok' ? 'passes' : state === 'fail' ? 'fails' : 'not checked yet'}
              >
                {state === 'ok' ? '✓' : state === 'fail' ? '✗' : '○'}
              </span>
              <span className="lab-check-title">{c.title}</span>
              {r && state === 'fail' && (
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
                <code>
                  <AtSpaces text={c.text} />
                </code>
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
