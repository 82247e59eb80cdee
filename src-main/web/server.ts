// The browser host: the same renderer and contract over HTTP + WebSocket. Bound to 127.0.0.1 on a free
// port by default. The static files are the public build; the WebSocket is what needs the random token,
// which the page presents as a subprotocol (never a cookie: browsers share cookies across ports). Every
// request needs a Host header naming this server (no DNS rebinding), and the socket this server's Origin.
// A malformed request gets an error answer and never ends the host; a client that stops reading is
// disconnected with a reason before its queue grows past CLIENT_QUEUE_LIMIT.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { networkInterfaces } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EventName, PodnetApi } from '../api/contract.js';
import { dispatch } from '../api/dispatch.js';
import { Holdings } from '../api/holdings.js';
import { terminalDataHead } from '../api/frames.js';
import type { EngineEvents } from '../session/session.js';

/** A message as it goes out: JSON text, or a binary frame in fragments sent back to back (api/frames.ts). */
type Frame = string | readonly Uint8Array[];

function terminalFrame(payload: unknown): Frame {
  const { id, data } = payload as { id: string; data: Uint8Array };
  return [terminalDataHead(id), data];
}

/** What one token reaches: a contract to serve and the events its sockets receive. */
export interface RpcRoute {
  api: PodnetApi;
  events: EngineEvents;
  /** Called when a socket with this token opens (a workshop seat counts it as the learner's return). */
  opened?(): void;
  /** Called when such a socket closes. */
  closed?(): void;
  /** Events sent to each new socket of this route only, before any other (a workshop mirror's banner). */
  greeting?(): [EventName, unknown][];
}

export interface WebHostOptions {
  /** One engine behind one token (npm run web, the desktop's tests): `api` and `events` with `token`. */
  api?: PodnetApi;
  events?: EngineEvents;
  /** Many engines, each behind its own token (a workshop's seats): the route a socket's token reaches, if any. */
  routes?: (token: string) => RpcRoute | undefined;
  /** Pages and calls of the host's own before the renderer's files (a workshop's join page); true when answered. */
  http?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;
  /** Sockets of the host's own beside /rpc, after the Host and Origin checks; true when taken. */
  upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => boolean;
  rendererDir: string;
  /** Address to bind: 127.0.0.1 unless a workshop room needs it exposed on purpose. */
  host?: string;
  port?: number;
  token?: string;
  /** The origin browsers reach this server at through a proxy (a cluster's Ingress): one of its names, and the one shown. */
  publicUrl?: string;
}

export interface WebHost {
  url: string;
  /** http://address:port, as shown in url (the room's pages are beneath it). */
  origin: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/** The page offers two subprotocols: PROTOCOL, which the host selects, and the token as `podnet-token.<token>`. */
export const PROTOCOL = 'podnet';
export const tokenProtocol = (token: string): string => `podnet-token.${token}`;
/** Bytes queued for one client before it counts as not reading and is disconnected. */
export const CLIENT_QUEUE_LIMIT = 8 * 1024 * 1024;
/** How long a disconnected slow client has to take its close frame before the socket is destroyed. */
const CLOSE_GRACE_MS = 10_000;
/** Close codes (RFC 6455): a policy violation, here "not reading". */
const CLOSE_NOT_READING = 1008;
const MAX_PAYLOAD = 2 * 1024 * 1024;
/** The same policy as the renderer's meta tag, sent as a header too. */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/** Headers of every page and file served: the CSP, no sniffing, no Referer (a page's URL may still carry
 *  ?token= while it loads), nothing cached. */
export const PAGE_HEADERS = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
};

function sameToken(a: string | undefined | null, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The token a socket presents among its offered subprotocols. */
export function offeredToken(req: IncomingMessage): string | undefined {
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  return offered.find((p) => p.startsWith('podnet-token.'))?.slice('podnet-token.'.length);
}

/** The request's path as a URL, or undefined when it is not one (`//`, `http://x` …). */
function requestUrl(req: IncomingMessage): URL | undefined {
  const path = req.url ?? '/';
  if (!path.startsWith('/') || path.startsWith('//')) return undefined;
  try {
    return new URL(path, 'http://placeholder');
  } catch {
    return undefined;
  }
}

export async function startWebHost(opts: WebHostOptions): Promise<WebHost> {
  if (!(opts.api && opts.events) === !opts.routes)
    throw new Error("startWebHost: give either api and events (one engine) or routes (a workshop's seats)");
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const bind = opts.host ?? '127.0.0.1';
  const root = resolve(opts.rendererDir);
  let port = 0;

  /** Host names this server answers to: loopback names, and the exposed address when there is one. */
  const wildcard = bind === '0.0.0.0' || bind === '::';
  const allowedHosts = () => {
    const names = ['127.0.0.1', 'localhost', '[::1]'];
    // exposed on every address: each of this machine's addresses is a name of ours
    const exposed = wildcard
      ? Object.values(networkInterfaces())
          .flat()
          .map((i) => i!.address)
      : bind !== '127.0.0.1'
        ? [bind]
        : [];
    for (const a of exposed) names.push(a.includes(':') ? `[${a}]` : a);
    return new Set(names.map((n) => `${n}:${port}`));
  };
  const pub = opts.publicUrl ? new URL(opts.publicUrl) : undefined;
  const hostOk = (req: IncomingMessage) =>
    allowedHosts().has(req.headers.host ?? '') || (!!pub && req.headers.host === pub.host);
  const originOk = (req: IncomingMessage) => {
    const o = req.headers.origin;
    return !!o && ([...allowedHosts()].some((h) => o === `http://${h}`) || o === pub?.origin);
  };
  /** The route a socket's token reaches: the single engine's (the token compared in constant time) or a seat's. */
  const single = opts.api && opts.events ? { api: opts.api, events: opts.events } : undefined;
  const routeOf = (req: IncomingMessage): RpcRoute | undefined => {
    const offered = offeredToken(req);
    if (!offered) return undefined;
    if (single) return sameToken(offered, token) ? single : undefined;
    return opts.routes?.(offered);
  };

  const refuse = (res: ServerResponse, code: number, text: string) => {
    res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(text + '\n');
  };

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    if (!hostOk(req))
      return refuse(res, 403, 'Podnet Lab: this server answers only to its own address (Host header refused).');
    const url = requestUrl(req);
    if (!url) return refuse(res, 400, 'bad request: the path is not a URL path');
    if (opts.http && (await opts.http(req, res, url))) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'method not allowed');
    let path: string;
    try {
      path = decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname);
    } catch {
      return refuse(res, 400, 'bad request: the path is not valid percent-encoded UTF-8');
    }
    // the public build: no token here (the page takes ?token= from its own URL and drops it)
    const rel = normalize(path);
    const file = join(root, rel);
    if (file !== root && !file.startsWith(root + sep)) return refuse(res, 404, 'not found');
    try {
      const st = await stat(file);
      if (!st.isFile()) return refuse(res, 404, 'not found');
      const body = await readFile(file);
      res.writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        ...PAGE_HEADERS,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      refuse(res, 404, `not found${rel === '/index.html' ? ': the renderer is not built (npm run build)' : ''}`);
    }
  };
  const server = createServer((req, res) => {
    // a client that goes away mid-answer is no error of the host's
    req.on('error', () => {});
    res.on('error', () => {});
    serve(req, res).catch((e: unknown) => {
      if (!res.headersSent) refuse(res, 500, `internal error: ${(e as Error)?.message ?? String(e)}`);
      else res.destroy();
    });
  });
  // a request the HTTP parser refuses (or a socket error before one is parsed): answer 400 if we still can
  server.on('clientError', (_err, socket) => {
    if (socket.writable && !socket.writableEnded)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    else socket.destroy();
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: MAX_PAYLOAD,
    // the page offers the token and PROTOCOL: the host answers PROTOCOL, never echoing the token
    handleProtocols: (offered) => (offered.has(PROTOCOL) ? PROTOCOL : false),
  });
  /** Open sockets by the events they follow: one listener per engine, whichever tokens reach it. */
  const groups = new Map<EngineEvents, { sockets: Set<WebSocket>; onEvent: (e: EventName, p: unknown) => void }>();
  /** Sends unless the client is not reading: past CLIENT_QUEUE_LIMIT it is disconnected with a reason. */
  const sendTo = (ws: WebSocket, frame: Frame) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > CLIENT_QUEUE_LIMIT) {
      const mib = Math.round(ws.bufferedAmount / 2 ** 20);
      ws.close(
        CLOSE_NOT_READING,
        `the page is not reading: ${mib} MiB of output waited for it; reload the page to reconnect`.slice(0, 120),
      );
      // a client that never reads never takes the close frame either: its queue goes with the socket
      setTimeout(() => ws.terminate(), CLOSE_GRACE_MS).unref();
      return;
    }
    if (typeof frame === 'string') return ws.send(frame);
    // one message: nothing else may be sent between its fragments, and nothing is (this loop is synchronous)
    frame.forEach((part, i) => ws.send(part, { binary: true, fin: i === frame.length - 1 }));
  };
  // a terminal's output goes as a binary frame (api/frames.ts); every other event as JSON
  const frameOf = (event: EventName, payload: unknown): Frame =>
    event === 'terminal.data' ? terminalFrame(payload) : JSON.stringify({ event, payload });
  const follow = (events: EngineEvents, ws: WebSocket) => {
    let g = groups.get(events);
    if (!g) {
      const sockets = new Set<WebSocket>();
      const onEvent = (event: EventName, payload: unknown) => {
        const frame = frameOf(event, payload);
        for (const s of sockets) sendTo(s, frame);
      };
      g = { sockets, onEvent };
      groups.set(events, g);
      events.on('event', onEvent);
    }
    g.sockets.add(ws);
    const group = g;
    ws.on('close', () => {
      group.sockets.delete(ws);
      // a seat nobody has open keeps no listener of this host's
      if (group.sockets.size === 0 && groups.get(events) === group) {
        events.off('event', group.onEvent);
        groups.delete(events);
      }
    });
  };

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const deny = (code: number, text: string) => {
      socket.end(`HTTP/1.1 ${code} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const url = requestUrl(req);
    if (!url) return deny(400, 'Bad Request');
    if (!hostOk(req)) return deny(403, 'Forbidden');
    if (!originOk(req)) return deny(403, 'Forbidden');
    if (url.pathname !== '/rpc') {
      if (opts.upgrade?.(req, socket, head, url)) return;
      return deny(404, 'Not Found');
    }
    const route = routeOf(req);
    if (!route) return deny(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      follow(route.events, ws);
      for (const [event, payload] of route.greeting?.() ?? []) sendTo(ws, frameOf(event, payload));
      route.opened?.();
      // the watches this page holds, released when it goes (a closed tab must not keep the engine reading)
      const held = new Holdings(route.api);
      const onWorld = (event: EventName, payload: unknown) =>
        event === 'world.changed' && (payload as { state?: string }).state !== 'running' && held.reset();
      route.events.on('event', onWorld);
      ws.on('close', () => {
        route.events.off('event', onWorld);
        void held.release();
        route.closed?.();
      });
      // a bad frame (too large, invalid UTF-8, not a frame): ws closes with 1009/1007/1002; nothing else ends
      ws.on('error', () => ws.terminate());
      ws.on('message', (data, isBinary) => {
        let msg: unknown;
        try {
          if (isBinary) throw new Error('binary frame');
          msg = JSON.parse((data as Buffer).toString());
        } catch {
          sendTo(
            ws,
            JSON.stringify({
              id: -1,
              error: { code: 'bad-request', message: 'a message must be one JSON text frame: {id, method, params}' },
            }),
          );
          return;
        }
        void dispatch(route.api, msg).then((reply) => {
          held.note(msg, !('error' in reply));
          sendTo(ws, JSON.stringify(reply));
        });
      });
    });
  });

  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(opts.port ?? 0, bind, () => res());
  });
  port = (server.address() as AddressInfo).port;
  // exposed on every address: share one the room can reach (the first non-loopback IPv4)
  const lan = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  const shown = wildcard ? (lan ?? '127.0.0.1') : bind.includes(':') ? `[${bind}]` : bind;
  const origin = pub?.origin ?? `http://${shown}:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    token,
    close: async () => {
      for (const [events, g] of groups) {
        events.off('event', g.onEvent);
        for (const s of g.sockets) s.terminate();
      }
      groups.clear();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
