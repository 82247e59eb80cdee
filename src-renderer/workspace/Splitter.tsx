// A splitter between two panes: drag it, or focus it and use the arrow keys. It reports the new size
// (a width; for "top", the upper pane's height) of the pane it belongs to; the workspace clamps and remembers it.
import { useRef, type KeyboardEvent, type PointerEvent } from 'react';

interface Props {
  /** Which pane it sizes: the left one grows to the right, the right one to the left, the top one downwards. */
  side: 'left' | 'right' | 'top';
  width: number;
  min: number;
  max: number;
  label: string;
  onResize: (width: number) => void;
}

const KEY_STEP = 16;

export function Splitter({ side, width, min, max, label, onResize }: Props) {
  const drag = useRef<{ x: number; width: number } | null>(null);
  const dir = side === 'right' ? -1 : 1;
  const across = side === 'top';
  const at = (e: PointerEvent<HTMLDivElement>) => (across ? e.clientY : e.clientX);
  const clamp = (w: number) => Math.max(min, Math.min(max, w));

  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    if (e.button !== 0) return;
    e.currentTarget.setPointerCapture(e.pointerId);
    drag.current = { x: at(e), width };
    document.body.classList.add('resizing');
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    if (drag.current) onResize(clamp(drag.current.width + dir * (at(e) - drag.current.x)));
  };
  const end = () => {
    if (!drag.current) return;
    drag.current = null;
    document.body.classList.remove('resizing');
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const [more, less] = across ? ['ArrowDown', 'ArrowUp'] : ['ArrowRight', 'ArrowLeft'];
    const step = e.key === more ? KEY_STEP : e.key === less ? -KEY_STEP : 0;
    if (!step) return;
    e.preventDefault();
    onResize(clamp(width + dir * step));
  };

  return (
    <div
      className={`splitter splitter-${side}`}
      role="separator"
      aria-orientation={across ? 'horizontal' : 'vertical'}
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
