// A vertical splitter between two panes: drag it, or focus it and use the arrow keys. It reports
// the new width of the side pane it belongs to; the workspace clamps and remembers it.
import { useRef, type KeyboardEvent, type PointerEvent } from 'react';

interface Props {
  /** Which pane it sizes: the left one grows to the right, the right one to the left. */
  side: 'left' | 'right';
  width: number;
  min: number;
  max: number;
  label: string;
  onResize: (width: number) => void;
}

const KEY_STEP = 16;

export function Splitter({ side, width, min, max, label, onResize }: Props) {
  const drag = useRef<{ x: number; width: number } | null>(null);
  const dir = side === 'left' ? 1 : -1;
  const clamp = (w: number) => Math.max(min, Math.min(max, w));

  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    if (e.button !== 0) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    drag.current = { x: e.clientX, width };
    document.body.classList.add('resizing');
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    if (drag.current) onResize(clamp(drag.current.width + dir * (e.clientX - drag.current.x)));
  };
  const end = () => {
    if (!drag.current) return;
    drag.current = null;
    document.body.classList.remove('resizing');
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const step = e.key === 'ArrowRight' ? KEY_STEP : e.key === 'ArrowLeft' ? -KEY_STEP : 0;
    if (!step) return;
    e.preventDefault();
    onResize(clamp(width + dir * step));
  };

  return (
    <div
      className={`splitter splitter-${side}`}
      role="separator"
      aria-orientation="vertical"
      aria-label={label}
      aria-valuenow={Math.round(width)}
      aria-valuemin={min}
      aria-valuemax={max}
      tabIndex={0}
      data-testid={`splitter-${side}`}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={end}
      onPointerCancel={end}
      onKeyDown={onKeyDown}
    />
  );
}
