// The swimlane diagram: one band per component (control plane, kubelet, CRI, containerd, CNI plugins, kernel), bars
// placed by start and sized by duration on one time axis; a bar is a button that shows its step.
import { useEffect, useRef, useState } from 'react';
import type { TimelineOperation, TimelineStep } from '../../src-main/api/contract.ts';
import { barLabel, formatMs, lanesOf, layoutBars, tickStep } from './layout.ts';

const ROW_H = 22;
const LANE_PAD = 6;
/** Room kept at the right for the last bars' labels. */
const LABEL_ROOM = 220;

export function Swimlanes({
  op,
  steps,
  selected,
  onSelect,
}: {
  op: TimelineOperation;
  steps: TimelineStep[];
  selected: number | null;
  onSelect: (id: number) => void;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(800);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setWidth(el.clientWidth));
    ro.observe(el);
    setWidth(el.clientWidth);
    return () => ro.disconnect();
  }, []);
  const plot = Math.max(200, width - LABEL_ROOM);
  const lanes = lanesOf(steps);
  const { bars, rows, total, scale } = layoutBars(steps, op.pauses, plot, lanes);
  // a tick label ("400 ms") needs about 56 px: fewer ticks on a narrow plot (the timeline beside a terminal)
  const tick = tickStep(total, Math.max(2, Math.min(8, Math.floor(plot / 56))));
  const ticks = Array.from({ length: Math.floor(total / tick) + 1 }, (_, i) => i * tick);
  let top = 0;
  const laneTops = rows.map((r) => {
    const t = top;
    top += r * ROW_H + LANE_PAD * 2;
    return t;
  });
  const height = top;
  const contentWidth = Math.max(width, ...bars.map((b) => b.x + b.width + 8));
  return (
    <div className="tl-lanes" data-testid="timeline-lanes">
      <div className="tl-lane-titles" aria-hidden="true">
        <div className="tl-axis-spacer" />
        {lanes.map((l, i) => (
          <div
            key={l.component}
            className={`tl-lane-title lane-${l.component}`}
            style={{ height: rows[i]! * ROW_H + LANE_PAD * 2 }}
          >
            {l.title}
          </div>
        ))}
      </div>
      <div className="tl-plot" ref={ref}>
        <div style={{ width: contentWidth, position: 'relative' }}>
          <div className="tl-axis" aria-hidden="true">
            {ticks.map((t) => (
              <span key={t} className="tl-tick" style={{ left: t * scale }}>
                {formatMs(t)}
              </span>
            ))}
          </div>
          <div
            className="tl-bands"
            style={{ height }}
            role="group"
            aria-label={`Steps of ${op.kind} ${op.pod} on a time axis`}
          >
            {lanes.map((l, i) => (
              <div
                key={l.component}
                className={`tl-band lane-${l.component}`}
                style={{ top: laneTops[i], height: rows[i]! * ROW_H + LANE_PAD * 2 }}
              />
            ))}
            {ticks.map((t) => (
              <div key={t} className="tl-gridline" style={{ left: t * scale }} aria-hidden="true" />
            ))}
            {bars.map((b) => {
              const s = b.step;
              const ms = b.ms;
              return (
                <button
                  key={s.id}
                  type="button"
                  className={`tl-bar lane-${s.component}${s.error ? ' has-error' : ''}${s.undo ? ' is-undo' : ''}${b.open ? ' is-open' : ''}${s.end === s.start ? ' is-tick' : ''}${selected === s.id ? ' is-selected' : ''}`}
                  style={{ left: b.x, top: laneTops[b.lane]! + LANE_PAD + b.row * ROW_H, width: b.width }}
                  data-testid={`timeline-bar-${s.id}`}
                  data-name={s.name}
                  title={`${s.component} · ${s.name}${s.end === undefined ? ' (running)' : ` · ${formatMs(ms)}`}${s.summary ? `\n${s.summary}` : ''}${s.error ? `\n✗ ${s.error}` : ''}`}
                  aria-pressed={selected === s.id}
                  onClick={() => onSelect(s.id)}
                >
                  <span className="tl-bar-fill" style={{ width: b.barWidth }} />
                  <span className="tl-bar-label">
                    {b.open ? `${s.undo ? '↺ ' : ''}${s.name} …` : barLabel(s, b.ms)}
                  </span>
                </button>
              );
            })}
          </div>
        </div>
      </div>
    </div>
  );
}
