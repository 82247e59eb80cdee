// A workshop seat's word from the instructor (a message to every seat), or the banner of a read-only
// mirror: a bar of its own over the workspace, in its own React root, so the workspace is unchanged.
import { useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import type { PodnetClient } from '../../src-main/api/client.ts';
import type { Payload } from '../../src-main/api/contract.ts';
import './workshop.css';

type Notice = Payload<'workshop.notice'>;

function WorkshopNotice({ client }: { client: PodnetClient }) {
  const [message, setMessage] = useState<Notice | null>(null);
  const [mirror, setMirror] = useState<Notice | null>(null);
  useEffect(() => client.on('workshop.notice', (n) => (n.kind === 'mirror' ? setMirror(n) : setMessage(n))), [client]);
  if (!message && !mirror) return null;
  return (
    <div className="workshop-notices">
      {mirror && (
        <div className="workshop-mirror" data-testid="workshop-mirror" role="status">
          {mirror.text}: you see what the learner sees; typing and clicking change nothing.
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
            onClick={() => setMessage(null)}
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
  createRoot(el).render(<WorkshopNotice client={client} />);
}
