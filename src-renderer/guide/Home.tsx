// The home screen: what Podnet Lab is, the one next step ("Start with lab 1" or "Continue: lab N,
// step M"), free play second, and the labs as a numbered path in groups with each lab's progress.
import type { LabSummary } from '../../src-main/api/contract.ts';
import { runNamed } from '../actions.ts';
import { useAppState, useLab } from '../state/context.ts';
import { loadPrefs } from '../state/prefs.ts';
import { guideOf, useGuide } from './guide-store.ts';
import { groupLabs, isComplete, labNo, nextMove } from './path.ts';

export function Home() {
  const lab = useLab();
  const guide = guideOf(lab);
  const labs = useGuide(guide, (s) => s.catalogue);
  const pending = useGuide(guide, (s) => s.pending);
  const nodeCount = useAppState((s) => s.nodeCount);
  const online = useAppState((s) => s.connection === 'connected');
  const running = useAppState((s) => s.world.state === 'running');
  const move = labs ? nextMove(labs, loadPrefs().lastLab) : null;
  /** An empty world: a lab's world still running is replaced (asked first). */
  const freePlay = async () => {
    if (running) {
      const ok = await lab.confirm({
        title: 'Free play in an empty world?',
        body: 'The world still running (its terminals, pods and everything made in it) ends, and an empty one starts with the same nodes. Lab progress is kept.',
        confirm: 'Start an empty world',
      });
      if (!ok) return;
      lab.setFreePlay(true);
      return lab.resetWorld();
    }
    lab.setFreePlay(true);
    runNamed('world.start', lab);
  };
  const done = labs?.filter(isComplete).length ?? 0;
  return (
    <div className="home" data-testid="home-screen">
      <section className="home-hero" aria-labelledby="home-title">
        <h2 id="home-title">Build the pod network, one real step at a time</h2>
        <p className="muted">
          Each lab gives you a world of its own — real network namespaces, veth pairs, bridges and the real CNI plugins,
          driven as kubelet → CRI → containerd → CNI drives them — and a guide that checks your work as you go. Nothing
          touches your machine’s network.
        </p>
        <div className="home-actions">
          {move && (
            <button
              className="button primary big"
              data-testid="home-primary"
              disabled={!!pending || !online}
              onClick={() => void guide.open(move.lab.id)}
            >
              {move.label} <span className="home-primary-title">· {move.lab.title}</span> →
            </button>
          )}
          <button
            className="button big"
            data-testid="home-free-play"
            disabled={!online}
            title={`An empty world of ${nodeCount} node${nodeCount === 1 ? '' : 's'} (the count is in the top bar), no lab`}
            onClick={() => void freePlay()}
          >
            Free play: an empty world
          </button>
        </div>
        {pending && (
          <p className="lab-busy" role="status" data-testid="lab-busy">
            <span className="spinner" aria-hidden="true" /> {pending}…
          </p>
        )}
      </section>
      <section className="home-path" aria-labelledby="path-title">
        <h2 id="path-title">
          The path{' '}
          {labs && (
            <span className="muted home-count">
              {done} of {labs.length} labs done
            </span>
          )}
        </h2>
        {labs === null ? (
          <p className="muted">Reading the labs…</p>
        ) : labs.length === 0 ? (
          <p className="muted">No labs found. Authors: podnet lab new NAME.</p>
        ) : (
          groupLabs(labs).map((g) => (
            <div key={g.title} className="path-group">
              <h3>
                {g.title} <span className="muted">— {g.blurb}</span>
              </h3>
              <ol className="path-cards" data-testid="lab-catalogue">
                {g.labs.map((l) => (
                  <li key={l.id}>
                    <LabCard l={l} next={move?.lab.id === l.id} busy={!!pending} onOpen={() => void guide.open(l.id)} />
                  </li>
                ))}
              </ol>
            </div>
          ))
        )}
      </section>
    </div>
  );
}

export function LabCard({
  l,
  next,
  busy,
  onOpen,
  current,
}: {
  l: LabSummary;
  next?: boolean;
  busy: boolean;
  onOpen: () => void;
  current?: boolean;
}) {
  const n = labNo(l.id);
  const complete = isComplete(l);
  const pct = l.steps ? Math.round((100 * l.done.length) / l.steps) : 0;
  const state = complete ? 'done' : l.done.length || l.current ? 'started' : 'new';
  return (
    <button
      className={`lab-card path-card ${state}${next ? ' next' : ''}${current ? ' current' : ''}`}
      data-testid={`lab-open-${l.id}`}
      data-progress={state}
      disabled={busy || !!l.error}
      onClick={onOpen}
      title={l.error ?? l.summary}
      aria-label={`${n !== null ? `Lab ${n}: ` : ''}${l.title} — ${complete ? 'done' : `${l.done.length} of ${l.steps} steps done`}`}
    >
      <span className="path-num" aria-hidden="true">
        {complete ? '✓' : (n ?? '•')}
      </span>
      <span className="path-body">
        <span className="lab-card-title">{l.title}</span>
        <span className="lab-card-meta muted">
          {l.level} · {l.duration} min · {l.steps} steps · {l.nodes} node{l.nodes === 1 ? '' : 's'}
        </span>
        {l.error ? (
          <span className="lab-card-error">{l.error}</span>
        ) : (
          <span className="lab-card-summary">{l.summary}</span>
        )}
        <span className="path-progress" aria-hidden="true">
          <span className="path-bar">
            <span style={{ width: `${pct}%` }} />
          </span>
          <span className="muted">
            {complete ? 'done' : l.done.length ? `${l.done.length}/${l.steps} steps` : next ? 'next' : ''}
          </span>
        </span>
        {l.progressNotice && (
          <span className="lab-card-notice" role="note" data-testid={`lab-progress-notice-${l.id}`}>
            {l.progressNotice}
          </span>
        )}
      </span>
    </button>
  );
}
