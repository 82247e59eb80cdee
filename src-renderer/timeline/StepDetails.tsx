// One step, explained: what it is, how long it took, its error, the source the seeds point at, and its
// inputs and outputs (a plugin's env, stdin and stdout as pretty JSON), each with a copy button.
import type { TimelineStepDetail } from '../../src-main/api/contract.ts';
import { useLab } from '../state/context.ts';
import { compressor, formatMs } from './layout.ts';

function Copyable({ title, text, testId }: { title: string; text: string; testId: string }) {
  const lab = useLab();
  const copy = () =>
    void navigator.clipboard.writeText(text).then(
      () => lab.notify(`${title} copied`),
      (e: unknown) => lab.notify(`Could not copy: ${(e as Error).message}`),
    );
  return (
    <section className="tl-block">
      <header>
        <h4>{title}</h4>
        <button
          type="button"
          className="button small"
          onClick={copy}
          aria-label={`Copy ${title}`}
          data-testid={`copy-${testId}`}
        >
          Copy
        </button>
      </header>
      <pre className="tl-json" data-testid={`detail-${testId}`}>
        {text}
      </pre>
    </section>
  );
}

/** The working time, and the wall time too when step-through waits are inside the step. */
function took(start: number, end: number, pauses: readonly (readonly [number, number])[]): string {
  const at = compressor(pauses);
  const work = at(end) - at(start);
  const wall = end - start;
  return wall - work > 0.5 ? `${formatMs(work)} (${formatMs(wall)} with the step-through waits)` : formatMs(work);
}

export function StepDetails({
  detail,
  pauses,
}: {
  detail: TimelineStepDetail | null;
  pauses: readonly (readonly [number, number])[];
}) {
  if (!detail)
    return (
      <div className="tl-details muted tl-empty">Click a step (a bar or a row) to see its inputs and outputs.</div>
    );
  const s = detail.step;
  const env = detail.env
    ? Object.entries(detail.env)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')
    : undefined;
  const web = detail.source && /^https?:\/\//.test(detail.source.url);
  return (
    <div className="tl-details" data-testid="timeline-details">
      <h3>
        <span className={`tl-chip lane-${s.component}`}>{s.component}</span> {s.undo ? '↺ ' : ''}
        {s.name}
      </h3>
      <p className="muted">
        started at {formatMs(compressor(pauses)(s.start))}
        {s.end !== undefined ? `, took ${took(s.start, s.end, pauses)}` : ', still running'}
        {s.summary ? ` · ${s.summary}` : ''}
      </p>
      {s.error && (
        <p className="tl-error" role="alert">
          ✗ {s.error}
        </p>
      )}
      {detail.source && (
        <p className="tl-source">
          Source:{' '}
          {web ? (
            <a href={detail.source.url} target="_blank" rel="noreferrer noopener" data-testid="detail-source">
              {detail.source.label}
            </a>
          ) : (
            <span data-testid="detail-source">{detail.source.label}</span>
          )}
        </p>
      )}
      {env && <Copyable title="Environment" text={env} testId="env" />}
      {detail.stdin !== undefined && <Copyable title="stdin (network config)" text={detail.stdin} testId="stdin" />}
      {detail.stdout !== undefined && <Copyable title="stdout (result)" text={detail.stdout} testId="stdout" />}
      {detail.stderr !== undefined && <Copyable title="stderr" text={detail.stderr} testId="stderr" />}
      {detail.inputs !== undefined && <Copyable title="Inputs" text={detail.inputs} testId="inputs" />}
      {detail.outputs !== undefined && <Copyable title="Outputs" text={detail.outputs} testId="outputs" />}
    </div>
  );
}
