// A followed packet drawn on the topology: each leg an animated line in its own lane (the request solid, the
// reply dashed, in two colours), under the interfaces; each hop a numbered marker over them, clickable and
// focusable, the selected one ringed; a drop marked where the request was last seen, with the reason.
import { memo, useLayoutEffect } from 'react';
import './path.css';
import { spaceLabel } from './hop-text.ts';
import type { PathDrawing } from './path-layout.ts';
import type { PathResult } from './types.ts';

/** "✕ no route" (the drop's reason) on a tag of its own by the last hop seen, readable over whatever it covers. */
function DropTag({ x, y, text, tag }: NonNullable<PathDrawing['drop']>) {
  // the stem from the marker to the tag's nearest edge
  const sx = Math.max(tag.x, Math.min(tag.x + tag.w, x));
  const sy = Math.max(tag.y, Math.min(tag.y + tag.h, y));
  return (
    <g className="path-drop" aria-hidden="true">
      <title>dropped here: {text}</title>
      <line className="path-drop-stem" x1={x} y1={y} x2={sx} y2={sy} />
      <rect x={tag.x} y={tag.y} width={tag.w} height={tag.h} rx={5} />
      <path className="path-drop-x" d={`M${tag.x + 8},${tag.y + 7} l8,8 m0,-8 l-8,8`} />
      <text data-testid="path-drop" x={tag.x + 22} y={tag.y + 15.5}>
        {text}
      </text>
    </g>
  );
}

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
      {drawing.drop && <DropTag {...drawing.drop} />}
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
            <circle cx={m.x} cy={m.y} r={8} />
            <text x={m.x} y={m.y + 4}>
              {m.index + 1}
            </text>
          </g>
        );
      })}
      {sel && <circle className="path-ring" cx={sel.x} cy={sel.y} r={12} aria-hidden="true" />}
    </g>
  );
}
