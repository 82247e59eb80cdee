// A workshop seat's word from the instructor (a message to every seat), or the banner of a read-only
// mirror: a bar of its own over the workspace, in its own React root, so the workspace is unchanged.
import { useState, useSyncExternalStore } from 'react';
import { createRoot } from 'react-dom/client';
import type { PodnetClient } from '../../src-main/api/client.ts';
import type { Payload } from '../../src-main/api/contract.ts';
import './workshop.css';

type Notice = Payload<'workshop.notice'>;

interface Notices {
  message: Notice | null;
  mirror: Notice | null;
}

/** Notices as they arrive, from the page's start: a mirror's banner comes with the socket's first frame. */
function noticeStore(client: PodnetClient) {
  let now: Notices = { message: null, mirror: null };
  const listeners = new Set<() => void>();
  client.on('workshop.notice', (n) => {
    now = n.kind === 'mirror' ? { ...now, mirror: n } : { ...now, message: n };
    for (const l of listeners) l();
  });
  return {
    get: () => now,
    subscribe: (l: () => void) => (listeners.add(l), () => void listeners.delete(l)),
  };
}

function WorkshopNotice({ store }: { store: ReturnType<typeof noticeStore> }) {
  const { message: latest, mirror } = useSyncExternalStore(store.subscribe, store.get);
  // a dismissed message stays dismissed until the next one
  const [dismissed, setDismissed] = useState<number | null>(null);
  const message = latest && latest.at !== dismissed ? latest : null;
  if (!message && !mirror) return null;
  return (
    <div className="workshop-notices">
      {mirror && (
        <div
          className="workshop-mirror"
          data-testid="workshop-mirror"
          role="status"
          title="You see what the learner sees; typing and clicking here change nothing in their seat."
        >
          {mirror.text}: typing here changes nothing
        </div>
      )}
      {message && (
        <div className="workshop-message" data-testid="workshop-message" role="alert">
          <span className="workshop-from">Instructor:</span>{' '}
          <span data-testid="workshop-message-text">{message.text}</span>
          <button
            type="button"
            data-testid="workshop-message-close"
            aria-label="Dismiss the instructor's message"
            onClick={() => setDismissed(latest!.at)}
          >
            ×
          </button>
        </div>
      )}
    </div>
  );
}

/** Mounts the notice bar beside the workspace's root (a page outside a workshop never shows it). */
export function mountWorkshopNotice(client: PodnetClient): void {
  const el = document.createElement('div');
  el.id = 'workshop-root';
  document.body.appendChild(el);
  const store = noticeStore(client);
  createRoot(el).render(<WorkshopNotice store={store} />);
}
