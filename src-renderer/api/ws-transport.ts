// The browser transport: one WebSocket to the host's /rpc (same origin), presenting the page's token
// (page-token.ts) as a subprotocol. Frames are the contract's wire messages: JSON text, except a
// terminal's output, which comes as binary frames.
// When the socket drops, requests in flight fail at once with a clear error, and it reconnects with
// backoff; requests made while it is down wait for the next connection, up to QUEUE_TIMEOUT_MS.
import { ResponseMessage } from '../../src-main/api/contract.ts';
import { toApiError } from '../../src-main/api/client.ts';
import { decodeFrame } from '../../src-main/api/frames.ts';
import type { ConnectionState, RendererTransport } from './connection.ts';
import { pageToken } from './page-token.ts';

const enum Backoff {
  FirstMs = 250,
  MaxMs = 5000,
}
/** How long a request made while disconnected waits for the socket before it fails. */
const QUEUE_TIMEOUT_MS = 10000;

interface Pending {
  method: string;
  resolve(v: unknown): void;
  reject(e: Error): void;
}

export function rpcUrl(loc: Location = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/rpc`;
}

export function wsTransport(url: string = rpcUrl(), token: string | undefined = pageToken): RendererTransport {
  let socket: WebSocket | undefined;
  let state: ConnectionState = 'connecting';
  let detail = 'connecting to the Podnet Lab host';
  let attempt = 0;
  let nextId = 1;
  const inflight = new Map<number, Pending>();
  const queued: { method: string; params: unknown; p: Pending; timer: ReturnType<typeof setTimeout> }[] = [];
  const eventListeners = new Set<(event: string, payload: unknown) => void>();
  const connListeners = new Set<(s: ConnectionState) => void>();

  const setState = (s: ConnectionState, why: string) => {
    detail = why;
    if (s === state) return;
    state = s;
    for (const l of connListeners) l(s);
  };

  const onMessage = (ev: MessageEvent) => {
    if (ev.data instanceof ArrayBuffer) {
      // a terminal's output: bytes straight to its view (api/frames.ts); the client validates the event
      const f = decodeFrame(new Uint8Array(ev.data));
      if (f) for (const l of eventListeners) l(f.event, f.payload);
      return;
    }
    let msg: ResponseMessage;
    try {
      const parsed = ResponseMessage.safeParse(JSON.parse(String(ev.data)));
      if (!parsed.success) return; // not a contract frame: ignored, never acted on
      msg = parsed.data;
    } catch {
      return;
    }
    if ('event' in msg) {
      for (const l of eventListeners) l(msg.event, msg.payload);
      return;
    }
    const p = inflight.get(msg.id);
    if (!p) return;
    inflight.delete(msg.id);
    if ('error' in msg) p.reject(toApiError(msg.error));
    else p.resolve(msg.result);
  };

  const send = (method: string, params: unknown, p: Pending) => {
    const id = nextId++;
    inflight.set(id, p);
    socket!.send(JSON.stringify({ id, method, params }));
  };

  const connect = () => {
    // the first attempt is "connecting"; after a drop it stays "disconnected" until a socket opens
    if (attempt === 0) setState('connecting', 'connecting to the Podnet Lab host');
    // the host selects 'podnet'; the token is only offered (api: src-main/web/server.ts)
    const ws = new WebSocket(url, token ? ['podnet', `podnet-token.${token}`] : ['podnet']);
    ws.binaryType = 'arraybuffer';
    socket = ws;
    ws.onopen = () => {
      attempt = 0;
      setState('connected', `connected to ${url}`);
      for (const q of queued.splice(0)) {
        clearTimeout(q.timer);
        send(q.method, q.params, q.p);
      }
    };
    ws.onmessage = onMessage;
    ws.onclose = (ev: CloseEvent) => {
      if (socket !== ws) return;
      socket = undefined;
      for (const [id, p] of inflight) {
        inflight.delete(id);
        p.reject(
          new Error(`the connection to the Podnet Lab host was lost before "${p.method}" answered; reconnecting`),
        );
      }
      attempt++;
      const delay = Math.min(Backoff.MaxMs, Backoff.FirstMs * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.5);
      // the host's reason, when it gave one (a page that stopped reading, say), comes first
      const why = ev.reason
        ? `the Podnet Lab host disconnected this page: ${ev.reason}`
        : 'disconnected from the Podnet Lab host';
      setState(
        'disconnected',
        `${why}; retrying in ${Math.round(delay / 100) / 10} s (if it keeps failing, open the URL "npm run web" printed)`,
      );
      setTimeout(connect, delay);
    };
  };

  connect();

  return {
    get connection() {
      return state;
    },
    get detail() {
      return detail;
    },
    request(method, params) {
      return new Promise((resolve, reject) => {
        const p: Pending = { method, resolve, reject };
        if (socket && socket.readyState === WebSocket.OPEN) return send(method, params, p);
        const entry = {
          method,
          params,
          p,
          timer: setTimeout(() => {
            const i = queued.indexOf(entry);
            if (i >= 0) queued.splice(i, 1);
            reject(
              new Error(
                `not connected to the Podnet Lab host: "${method}" was not sent (is "npm run web" still running?)`,
              ),
            );
          }, QUEUE_TIMEOUT_MS),
        };
        queued.push(entry);
      });
    },
    onEvent(listener) {
      eventListeners.add(listener);
      return () => eventListeners.delete(listener);
    },
    onConnection(listener) {
      connListeners.add(listener);
      return () => connListeners.delete(listener);
    },
  };
}
