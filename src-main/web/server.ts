// The browser host: the same renderer and contract over HTTP + WebSocket. Bound to 127.0.0.1 on a free
// port by default; every request and socket needs the random token (from the URL once, then a cookie),
// a Host header naming this server (no DNS rebinding), and, for the socket, this server's Origin.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import type { EventName, PodnetApi } from '../api/contract.js';
import { dispatch } from '../api/dispatch.js';
import { encodeTerminalData } from '../api/frames.js';
import type { EngineEvents } from '../session/session.js';

function terminalFrame(payload: unknown): Uint8Array {
  const { id, data } = payload as { id: string; data: Uint8Array };
  return encodeTerminalData(id, data);
}

export interface WebHostOptions {
  api: PodnetApi;
  events: EngineEvents;
  rendererDir: string;
  /** Address to bind: 127.0.0.1 unless a workshop room needs it exposed on purpose. */
  host?: string;
  port?: number;
  token?: string;
}

export interface WebHost {
  url: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const COOKIE = 'podnet_token';
/** The same policy as the renderer's meta tag, sent as a header too. */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' ws: wss:; img-src 'self' data:; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
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

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === COOKIE) return v;
  }
  return undefined;
}

export async function startWebHost(opts: WebHostOptions): Promise<WebHost> {
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
  const hostOk = (req: IncomingMessage) => allowedHosts().has(req.headers.host ?? '');
  const originOk = (req: IncomingMessage) => {
    const o = req.headers.origin;
    return !!o && [...allowedHosts()].some((h) => o === `http://${h}`);
  };
  const authorised = (req: IncomingMessage, url: URL) =>
    sameToken(url.searchParams.get('token'), token) || sameToken(cookieToken(req), token);

  const refuse = (res: ServerResponse, code: number, text: string) => {
    res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(text + '\n');
  };

  const server = createServer(async (req, res) => {
    if (!hostOk(req))
      return refuse(res, 403, 'Podnet Lab: this server answers only to its own address (Host header refused).');
    const url = new URL(req.url ?? '/', 'http://placeholder');
    if (!authorised(req, url))
      return refuse(res, 401, 'Podnet Lab: open the URL printed by "npm run web": it carries the access token.');
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'method not allowed');
    if (url.searchParams.has('token')) {
      // Trade the token in the URL for a cookie, and drop it from the address bar.
      res.writeHead(303, {
        'Set-Cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        Location: '/',
        'Cache-Control': 'no-store',
      });
      return res.end();
    }
    const rel = normalize(decodeURIComponent(url.pathname === '/' ? '/index.html' : url.pathname));
    const file = join(root, rel);
    if (file !== root && !file.startsWith(root + sep)) return refuse(res, 404, 'not found');
    try {
      const st = await stat(file);
      if (!st.isFile()) return refuse(res, 404, 'not found');
      const body = await readFile(file);
      res.writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Content-Security-Policy': CSP,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cache-Control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      refuse(res, 404, `not found${rel === '/index.html' ? ': the renderer is not built (npm run build)' : ''}`);
    }
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 2 * 1024 * 1024 });
  const sockets = new Set<WebSocket>();
  const onEvent = (event: EventName, payload: unknown) => {
    // a terminal's output goes as a binary frame (api/frames.ts); every other event as JSON
    const frame = event === 'terminal.data' ? terminalFrame(payload) : JSON.stringify({ event, payload });
    for (const s of sockets) if (s.readyState === s.OPEN) s.send(frame);
  };
  opts.events.on('event', onEvent);

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://placeholder');
    const deny = (code: number, text: string) => {
      socket.end(`HTTP/1.1 ${code} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/rpc') return deny(404, 'Not Found');
    if (!hostOk(req)) return deny(403, 'Forbidden');
    if (!originOk(req)) return deny(403, 'Forbidden');
    if (!authorised(req, url)) return deny(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', async (data, isBinary) => {
        let msg: unknown;
        try {
          if (isBinary) throw new Error('binary frame');
          msg = JSON.parse(data.toString());
        } catch {
          ws.send(
            JSON.stringify({
              id: -1,
              error: { code: 'bad-request', message: 'a message must be one JSON text frame: {id, method, params}' },
            }),
          );
          return;
        }
        const reply = await dispatch(opts.api, msg);
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(reply));
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
  return {
    url: `http://${shown}:${port}/?token=${token}`,
    port,
    token,
    close: async () => {
      opts.events.off('event', onEvent);
      for (const s of sockets) s.terminate();
      wss.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
