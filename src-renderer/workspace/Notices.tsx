// Notices as toasts: over the workspace (they never move the layout), each leaving by itself after a
// few seconds (a pointer on it keeps it while read), the same text again refreshing it instead of stacking.
import { useAppState, useLab } from '../state/context.ts';

export function Notices() {
  const lab = useLab();
  const notices = useAppState((s) => s.notices);
  return (
    <div className="toasts" role="status" aria-live="polite">
      {notices.map((n) => (
        <div
          key={n.id}
          className="notice toast"
          data-testid="notice"
          onPointerEnter={() => lab.holdNotice(n.id, true)}
          onPointerLeave={() => lab.holdNotice(n.id, false)}
        >
          <span className="notice-text">
            {n.text}
            {n.repeats > 0 && <span className="muted"> (×{n.repeats + 1})</span>}
          </span>
          <button className="icon-button" aria-label="Dismiss" title="Dismiss" onClick={() => lab.dismiss(n.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
