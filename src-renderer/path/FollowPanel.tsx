// The "Follow a packet" panel beside (or under) the topology: the form (source, destination, kind, port;
// Enter sends), what the follow is doing while it runs, the engine's refusal word for word, then the result:
// a legend, the drop and its reason, every hop in order (a listbox: arrows, Home, End) and the chosen
// hop's details — namespace, interface, direction, the packet, the VXLAN outer header, and the decisions.
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import type { Topology } from '../../src-main/api/contract.ts';
import { decisionBrief, hopDetails, hopSummary, natRules, resultTitle, spaceLabel } from './hop-text.ts';
import { dropIndex, type PathDrawing } from './path-layout.ts';
import { usePath, type PathStore } from './path-store.ts';
import type { FollowRequest } from './types.ts';

const TYPED = '__typed__';

/** The places of the world a packet can start from or go to: its pods (with their IP and node) and its nodes. */
export function placesOf(t: Topology | null): { id: string; label: string; node?: string }[] {
  const ns = t?.namespaces ?? [];
  const ip = (n: Topology['namespaces'][number]) =>
    n.links
      .find((l) => l.name === 'eth0')
      ?.addrs.find((a) => !a.includes(':'))
      ?.split('/')[0];
  return [
    ...ns
      .filter((n) => n.kind === 'pod' && n.pod)
      .map((n) => ({ id: n.id, label: `pod ${n.pod}${ip(n) ? ` (${ip(n)})` : ''} · ${n.node}`, node: n.node })),
    ...ns
      .filter((n) => n.kind === 'node')
      .map((n) => ({ id: n.id, label: `node ${n.label}${ip(n) ? ` (${ip(n)})` : ''}` })),
  ];
}

/** The most namespaces a follow captures in (src-main/path/follow-in-world.ts's MAX_SPACES; the result names any left out). */
const MAX_CAPTURES = 16;

/** How many namespaces capture: every node and pod of the world, up to the engine's bound (it sends no progress). */
export const captureCount = (t: Topology | null) =>
  Math.min(MAX_CAPTURES, t?.namespaces.filter((n) => n.kind === 'node' || (n.kind === 'pod' && n.pod)).length ?? 0);

function Elapsed({ since }: { since: number }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 200);
    return () => clearInterval(t);
  }, []);
  return <span className="mono">{((now - since) / 1000).toFixed(1)} s</span>;
}

function FollowForm({ store, topology }: { store: PathStore; topology: Topology | null }) {
  const form = usePath(store, (s) => s.form);
  const following = usePath(store, (s) => s.following);
  const error = usePath(store, (s) => s.error);
  const focusSeq = usePath(store, (s) => s.focusSeq);
  const places = placesOf(topology);
  const id = useId();
  const fromRef = useRef<HTMLSelectElement>(null);
  const [typed, setTyped] = useState(() => !!form.to && !places.some((p) => p.id === form.to));

  useEffect(() => {
    if (focusSeq) fromRef.current?.focus();
  }, [focusSeq]);
  // a first choice: the first pod from, another pod (on another node if there is one) to
  useEffect(() => {
    if (form.from || !places.length) return;
    const from = places[0]!;
    const to =
      places.find((p) => p.id.startsWith('pod:') && p.id !== from.id && p.node !== from.node) ??
      places.find((p) => p.id !== from.id);
    store.setForm({ from: from.id, ...(to && !form.to ? { to: to.id } : {}) });
  }, [places, form.from, form.to, store]);

  const send = () => void store.follow(captureCount(topology));
  const set = (patch: Partial<FollowRequest>) => store.setForm(patch);
  return (
    <form
      className="path-form"
      data-testid="path-form"
      aria-label="Follow a packet"
      onSubmit={(e) => {
        e.preventDefault();
        send();
      }}
      onKeyDown={(e) => {
        // Enter sends from any field: a select or a radio button does not submit a form by itself
        const t = e.target as HTMLElement;
        if (e.key !== 'Enter' || t.tagName === 'BUTTON' || e.nativeEvent.isComposing) return;
        e.preventDefault();
        send();
      }}
    >
      <label className="path-field">
        <span>From</span>
        <select
          ref={fromRef}
          data-testid="path-from"
          value={form.from}
          onChange={(e) => set({ from: e.target.value })}
          disabled={!!following}
        >
          {!form.from && <option value="">—</option>}
          {places.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
        </select>
      </label>
      <label className="path-field">
        <span>To</span>
        <select
          data-testid="path-to"
          value={typed ? TYPED : form.to}
          onChange={(e) => {
            const v = e.target.value;
            setTyped(v === TYPED);
            set({ to: v === TYPED ? '' : v });
          }}
          disabled={!!following}
        >
          {!form.to && !typed && <option value="">—</option>}
          {places.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
          <option value={TYPED}>An address or a Service name…</option>
        </select>
      </label>
      {typed && (
        <label className="path-field path-typed">
          <span>Address</span>
          <input
            data-testid="path-to-text"
            autoFocus
            spellCheck={false}
            placeholder="10.244.2.3, 10.96.0.10:80, or a Service: svc:web"
            value={form.to}
            onChange={(e) => set({ to: e.target.value })}
            disabled={!!following}
          />
        </label>
      )}
      <fieldset className="path-kind" disabled={!!following}>
        <legend>Packet</legend>
        {(['ping', 'tcp', 'udp'] as const).map((k) => (
          <label key={k}>
            <input
              type="radio"
              name={`${id}-kind`}
              value={k}
              data-testid={`path-kind-${k}`}
              checked={form.kind === k}
              onChange={() => set({ kind: k })}
            />
            {k === 'ping' ? 'ping' : k.toUpperCase()}
          </label>
        ))}
        <label className="path-port">
          port
          <input
            type="number"
            min={1}
            max={65535}
            data-testid="path-port"
            disabled={form.kind === 'ping'}
            value={form.kind === 'ping' ? '' : (form.port ?? '')}
            placeholder={form.kind === 'ping' ? '—' : '80'}
            onChange={(e) => {
              const v = e.target.value;
              set(v === '' ? { port: undefined } : { port: Number(v) });
            }}
          />
        </label>
      </fieldset>
      <div className="path-send">
        <button type="submit" className="button small primary" data-testid="path-send" disabled={!!following}>
          {following ? 'Following…' : 'Send'}
        </button>
        <span className="muted path-hint">
          <kbd>Enter</kbd> sends
        </span>
      </div>
      {following && (
        <p className="path-progress" role="status" data-testid="path-progress">
          <span className="spinner" aria-hidden="true" /> Capturing in {following.spaces} namespace
          {following.spaces === 1 ? '' : 's'}, sending {following.what}… <Elapsed since={following.started} />
        </p>
      )}
      {error && (
        <p className="path-error" role="alert" data-testid="path-error">
          {error}
        </p>
      )}
    </form>
  );
}

function HopList({ store, drawing }: { store: PathStore; drawing: PathDrawing | null }) {
  const result = usePath(store, (s) => s.result)!;
  const selected = usePath(store, (s) => s.selected);
  const list = useRef<HTMLDivElement>(null);
  const n = result.hops.length;
  useEffect(() => {
    if (selected !== null)
      list.current?.querySelector(`[data-index="${selected}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [selected]);
  const onKey = (e: KeyboardEvent) => {
    const cur = selected ?? -1;
    const next =
      e.key === 'ArrowDown'
        ? Math.min(n - 1, cur + 1)
        : e.key === 'ArrowUp'
          ? Math.max(0, cur - 1)
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? n - 1
              : null;
    if (next === null) return;
    e.preventDefault();
    store.selectHop(next);
  };
  const missing = new Set(drawing?.missing ?? []);
  const di = dropIndex(result);
  const listId = useId();
  return (
    <div
      ref={list}
      className="path-hops"
      role="listbox"
      tabIndex={0}
      aria-label="Hops, in order"
      aria-activedescendant={selected !== null ? `${listId}-${selected}` : undefined}
      data-testid="path-hops"
      onKeyDown={onKey}
    >
      {(['request', 'reply'] as const).map((leg) => {
        const hops = result.hops.map((h, i) => ({ h, i })).filter((x) => x.h.leg === leg);
        if (!hops.length) return null;
        return (
          <div key={leg} role="group" aria-label={leg} className={`path-group path-${leg}`}>
            <div className="path-group-title" aria-hidden="true">
              {leg === 'request' ? 'Request' : 'Reply'}
            </div>
            {hops.map(({ h, i }) => (
              <div
                key={i}
                id={`${listId}-${i}`}
                role="option"
                aria-selected={i === selected}
                data-index={i}
                data-testid={`path-hop-item-${i}`}
                className={`path-hop${i === selected ? ' selected' : ''}${i === di ? ' dropped' : ''}`}
                onClick={() => store.selectHop(i)}
              >
                <span className={`path-num path-${leg}`}>{i + 1}</span>
                <span className="path-where">
                  <strong>{spaceLabel(h.space)}</strong>{' '}
                  <span className="mono" data-testid={`path-hop-if-${i}`}>
                    {h.ifname}
                  </span>{' '}
                  <span className="muted">{h.direction === 'in' ? '← in' : '→ out'}</span>
                  {missing.has(i) && <span className="muted"> · not on the drawing</span>}
                </span>
                <span className="path-what mono">{hopSummary(h)}</span>
                <span className="path-why muted">
                  {i === di ? `dropped after here: ${result.drop!.reason}` : decisionBrief(h)}
                </span>
              </div>
            ))}
          </div>
        );
      })}
    </div>
  );
}

function HopDetails({ store }: { store: PathStore }) {
  const result = usePath(store, (s) => s.result)!;
  const selected = usePath(store, (s) => s.selected);
  if (selected === null || !result.hops[selected])
    return <p className="muted path-details-empty">Choose a hop (here or on the drawing) for what moved it on.</p>;
  const h = result.hops[selected];
  const rules = natRules(h);
  const dropped = dropIndex(result) === selected ? result.drop : undefined;
  return (
    <section className="path-details" data-testid="path-hop-details" aria-label={`Hop ${selected + 1}`}>
      <h3>
        Hop {selected + 1} · {h.leg} · {spaceLabel(h.space)} <span className="mono">{h.ifname}</span>{' '}
        {h.direction === 'in' ? '←' : '→'}
      </h3>
      {dropped && (
        <p className="path-drop-note" data-testid="path-hop-drop">
          Last seen here: <strong>{dropped.reason}</strong> — {dropped.detail}
        </p>
      )}
      <dl>
        {hopDetails(result, selected).map((r) => (
          <div key={r.key}>
            <dt>{r.label}</dt>
            <dd className={r.mono ? 'mono' : undefined} data-testid={`path-detail-${r.key}`}>
              {r.value}
            </dd>
          </div>
        ))}
      </dl>
      {rules.length > 0 && (
        <details className="path-rules">
          <summary>The nat rules it met ({rules.length})</summary>
          <ol className="mono">
            {rules.map((x, i) => (
              <li key={i}>
                {x.rule} <span className="muted">→ {x.verdict}</span>
              </li>
            ))}
          </ol>
        </details>
      )}
    </section>
  );
}

export function FollowPanel({
  store,
  topology,
  drawing,
}: {
  store: PathStore;
  topology: Topology | null;
  drawing: PathDrawing | null;
}) {
  const result = usePath(store, (s) => s.result);
  const origin = usePath(store, (s) => s.origin);
  return (
    <aside
      className="path-panel"
      data-testid="path-panel"
      aria-label="Follow a packet"
      onKeyDown={(e) => {
        if (e.key === 'Escape' && !e.defaultPrevented) store.setOpen(false);
      }}
    >
      <header>
        <strong>Follow a packet</strong>
        <span className="topo-spacer" />
        {result && (
          <button className="button small ghost" data-testid="path-clear" onClick={() => store.clear()}>
            Clear the path
          </button>
        )}
        <button className="icon-button" aria-label="Close the panel" onClick={() => store.setOpen(false)}>
          ×
        </button>
      </header>
      <div className="path-scroll">
        <FollowForm store={store} topology={topology} />
        {result && (
          <div className="path-result" data-testid="path-result">
            <p className="path-title" data-testid="path-title">
              {resultTitle(result)}
              {origin === 'elsewhere' && (
                <span className="muted"> · followed elsewhere (a terminal's podnet path)</span>
              )}
            </p>
            {(result.captured || result.limited) && (
              <p className="muted path-captured">
                {result.captured ? `Captured in ${result.captured.length} namespaces. ` : ''}
                {result.limited ?? ''}
              </p>
            )}
            <p className="path-legend" aria-label="Legend">
              <svg width="34" height="10" aria-hidden="true">
                <path className="path-line path-request-sample" d="M2,5 L32,5" />
              </svg>
              request
              <svg width="34" height="10" aria-hidden="true">
                <path className="path-line path-reply-sample" d="M2,5 L32,5" />
              </svg>
              reply
              <span className="muted">· marker = hop, numbered in time order</span>
            </p>
            {result.drop && (
              <p className="path-drop-banner" role="alert" data-testid="path-drop-reason">
                {result.drop.lastSeen
                  ? `Dropped after ${spaceLabel(result.drop.lastSeen.space)} ${result.drop.lastSeen.ifname}: `
                  : `Dropped in ${spaceLabel(result.drop.space)} before any capture saw it: `}
                <strong>{result.drop.reason}</strong> — {result.drop.detail}
              </p>
            )}
            <div className="path-columns">
              <HopList store={store} drawing={drawing} />
              <HopDetails store={store} />
            </div>
          </div>
        )}
      </div>
    </aside>
  );
}
