// A followed packet drawn on the topology: each leg an animated line in its own lane (the request solid, the
// reply dashed, in two colours), under the interfaces; each hop a numbered marker over them, clickable and
// focusable, the selected one ringed; a drop marked where the request was last seen, with the reason.
import { memo, useLayoutEffect } from 'react';
import './path.css';
import { spaceLabel } from './hop-text.ts';
import type { PathDrawing } from './path-layout.ts';
import type { PathResult } from './types.ts';

export const PathLines = memo(function PathLines({ drawing }: { drawing: PathDrawing }) {
  return (
    <g className="path-lines" data-testid="path-lines" aria-hidden="true">
      {drawing.lines.map((l) => (
        <g key={l.leg} className={`path-leg path-${l.leg}`} data-testid={`path-line-${l.leg}`}>
          <path className="path-under" d={l.d} />
          <path className="path-line" d={l.d} />
          {/* the packet's flow: short dashes running along the line, the way it went */}
          <path className="path-flow" d={l.d} />
        </g>
      ))}
    </g>
  );
});

export function PathMarkers({
  drawing,
  result,
  selected,
  onSelect,
  onDrawn,
}: {
  drawing: PathDrawing;
  result: PathResult;
  selected: number | null;
  onSelect: (i: number) => void;
  /** Called once the markers are on screen (the benchmark's "path drawn"). */
  onDrawn: () => void;
}) {
  // committed before this frame's paint: the frame's callback, then a task after the paint
  useLayoutEffect(() => {
    let t: ReturnType<typeof setTimeout> | undefined;
    const id = requestAnimationFrame(() => (t = setTimeout(onDrawn, 0)));
    return () => {
      cancelAnimationFrame(id);
      clearTimeout(t);
    };
  }, [drawing, onDrawn]);
  const sel = drawing.markers.find((m) => m.index === selected);
  return (
    <g className="path-markers" data-testid="path-markers" data-hops={drawing.markers.length}>
      {drawing.markers.map((m) => {
        const h = result.hops[m.index]!;
        const label = `Hop ${m.index + 1} of ${result.hops.length}, ${h.leg}: ${spaceLabel(h.space)} ${h.ifname} ${h.direction}`;
        const dropped = drawing.drop?.index === m.index;
        return (
          <g
            key={m.index}
            className={`path-marker path-${m.leg}${m.index === selected ? ' selected' : ''}${dropped ? ' dropped' : ''}`}
            data-testid={`path-hop-${m.index}`}
            data-at={m.at}
            role="button"
            tabIndex={0}
            aria-label={label}
            aria-pressed={m.index === selected}
            onClick={(e) => {
              e.stopPropagation();
              onSelect(m.index);
            }}
            onKeyDown={(e) => {
              if (e.key !== 'Enter' && e.key !== ' ') return;
              e.preventDefault();
              onSelect(m.index);
            }}
          >
            <title>{label}</title>
            <circle cx={m.x} cy={m.y} r={8.5} />
            <text x={m.x} y={m.y + 4}>
              {m.index + 1}
            </text>
          </g>
        );
      })}
      {sel && <circle className="path-ring" cx={sel.x} cy={sel.y} r={13} aria-hidden="true" />}
      {drawing.drop && (
        <g className="path-drop" data-testid="path-drop" aria-hidden="true">
          <path className="path-drop-x" d={`M${drawing.drop.x - 5},${drawing.drop.y - 20} l10,10 m0,-10 l-10,10`} />
          <text x={drawing.drop.x + 10} y={drawing.drop.y - 12}>
            {drawing.drop.text}
          </text>
        </g>
      )}
    </g>
  );
}
