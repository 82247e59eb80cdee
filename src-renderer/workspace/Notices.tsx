// Errors from requests (a pod that would not start, a lost connection…), until dismissed.
import { useAppState, useLab } from '../state/context.ts';

export function Notices() {
  const lab = useLab();
  const notices = useAppState((s) => s.notices);
  if (!notices.length) return null;
  return (
    <div className="notices" role="alert">
      {notices.map((n) => (
        <div key={n.id} className="notice" data-testid="notice">
          <span className="notice-text">{n.text}</span>
          <button className="icon-button" aria-label="Dismiss" title="Dismiss" onClick={() => lab.dismiss(n.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
