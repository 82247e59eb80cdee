// The question before something destructive (a rebuilt world, dropped edits): a modal dialog that says
// what will be lost. The focus starts on "Cancel", Escape cancels, and Tab stays inside it.
import { useEffect, useRef } from 'react';
import { useAppState } from '../state/context.ts';

export function ConfirmDialog() {
  const q = useAppState((s) => s.confirm);
  const box = useRef<HTMLDivElement>(null);
  const back = useRef<Element | null>(null);

  useEffect(() => {
    if (!q) return;
    back.current = document.activeElement;
    box.current?.querySelector<HTMLButtonElement>('[data-testid="confirm-cancel"]')?.focus();
    return () => (back.current as HTMLElement | null)?.focus?.();
  }, [q]);

  if (!q) return null;
  const onKeyDown = (e: React.KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      q.resolve(false);
    } else if (e.key === 'Tab') {
      const items = [...(box.current?.querySelectorAll<HTMLElement>('button') ?? [])];
      const i = items.indexOf(document.activeElement as HTMLElement);
      e.preventDefault();
      items[(i + (e.shiftKey ? -1 : 1) + items.length) % items.length]?.focus();
    }
  };
  return (
    <div className="dialog-backdrop" onPointerDown={(e) => e.target === e.currentTarget && q.resolve(false)}>
      <div
        className="dialog"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="confirm-title"
        aria-describedby="confirm-body"
        data-testid="confirm-dialog"
        ref={box}
        onKeyDown={onKeyDown}
      >
        <h2 id="confirm-title">{q.title}</h2>
        <p id="confirm-body">{q.body}</p>
        <div className="dialog-actions">
          <button className="button" data-testid="confirm-cancel" onClick={() => q.resolve(false)}>
            Cancel
          </button>
          <button className="button primary danger-fill" data-testid="confirm-ok" onClick={() => q.resolve(true)}>
            {q.confirm}
          </button>
        </div>
      </div>
    </div>
  );
}
