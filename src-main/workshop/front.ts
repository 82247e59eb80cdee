// podnet workshop front: one room's entrance on a cluster, in front of its seat servers (one per pod). The join
// page sends each learner to the server with the most free seats; the instructor's page lists every server's
// seats and links its instructor's view. It holds no seat and no world: the seat servers do (docs/workshop.md).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { escapeHtml as esc } from './pages.js';
import { tokenKey } from './secrets.js';

/** A seat server: where the front asks it (a Service's address in the cluster) and where learners reach it. */
export interface SeatServer {
  internal: string;
  public: string;
}

export interface FrontOptions {
  servers: SeatServer[];
  /** The room's code and the instructor's token, the seat servers' own (one Secret for all). */
  code: string;
  instructorToken: string;
  host?: string;
  port?: number;
  /** How long a seat server may take to say how many seats it has free. */
  askTimeoutMs?: number;
}

export interface Front {
  url: string;
  port: number;
  close(): Promise<void>;
}

interface Seats {
  server: SeatServer;
  free: number;
  seats: number;
  error?: string;
}

const HEADERS = {
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

/** "seat-0.internal:8080=https://seat-0.example,…": each server's internal URL, and its public one when it differs. */
export function parseServers(list: string): SeatServer[] {
  const servers = list
    .split(',')
    .filter(Boolean)
    .map((item) => {
      const [internal, pub] = item.split('=');
      for (const u of [internal, pub ?? internal])
        if (!u || !/^https?:\/\/[^/?#]+\/?$/.test(u))
          throw new Error(`--servers: "${u}" is not an origin such as http://seat-0.seats:8080`);
      return { internal: internal!.replace(/\/$/, ''), public: (pub ?? internal)!.replace(/\/$/, '') };
    });
  if (!servers.length) throw new Error('--servers: give at least one seat server');
  return servers;
}

export async function startFront(opts: FrontOptions): Promise<Front> {
  const codeKey = tokenKey(opts.code.toUpperCase());
  const instructorKey = tokenKey(opts.instructorToken);
  const codeOk = (c: string | null) => !!c && tokenKey(c.toUpperCase()) === codeKey;

  /** Every seat server's free seats, asked at once; a server that does not answer counts as full. */
  const census = (): Promise<Seats[]> =>
    Promise.all(
      opts.servers.map(async (server) => {
        try {
          const r = await fetch(`${server.internal}/api/seats?room=${encodeURIComponent(opts.code)}`, {
            signal: AbortSignal.timeout(opts.askTimeoutMs ?? 3000),
          });
          if (!r.ok) throw new Error(`HTTP ${r.status}`);
          const j = (await r.json()) as { free: number; seats: number };
          return { server, free: j.free, seats: j.seats };
        } catch (e) {
          return { server, free: 0, seats: 0, error: (e as Error).message };
        }
      }),
    );

  const answer = (res: ServerResponse, status: number, type: string, body: string, extra = {}) => {
    res.writeHead(status, { ...HEADERS, 'Content-Type': type, ...extra });
    res.end(body);
  };

  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://front');
    if (url.pathname === '/healthz') return answer(res, 200, 'text/plain', 'ok\n');
    if (url.pathname === '/join' || url.pathname === '/api/join') {
      if (!codeOk(url.searchParams.get('room')))
        return answer(
          res,
          url.pathname === '/join' ? 404 : 403,
          'text/plain; charset=utf-8',
          'This join link has no room code, or not this room’s: ask the instructor for the join URL.\n',
        );
      const all = await census();
      const best = all.filter((s) => s.free > 0).sort((a, b) => b.free - a.free)[0];
      if (!best && all.every((s) => s.error))
        return answer(
          res,
          503,
          'text/plain; charset=utf-8',
          'No seat server of this room answers: ask the instructor.\n',
        );
      if (!best) {
        const seats = all.reduce((n, s) => n + s.seats, 0);
        return answer(
          res,
          409,
          'text/plain; charset=utf-8',
          `All ${seats} seats of this room are taken: ask the instructor.\n`,
        );
      }
      // the learner's browser (or script) goes on to that server: 307 keeps a POST's method and body
      const to = `${best.server.public}${url.pathname}?room=${encodeURIComponent(opts.code)}`;
      return answer(res, url.pathname === '/join' ? 302 : 307, 'text/plain; charset=utf-8', `${to}\n`, {
        Location: to,
      });
    }
    if (url.pathname === '/instructor') {
      const t = url.searchParams.get('token');
      if (!t || tokenKey(t) !== instructorKey)
        return answer(res, 403, 'text/plain; charset=utf-8', 'The instructor’s token is missing or wrong.\n');
      const all = await census();
      const rows = all
        .map(
          (s, i) =>
            `<tr data-testid="front-server"><td>${i + 1}</td><td>${esc(s.server.public)}</td><td>${
              s.error ? `not answering (${esc(s.error)})` : `${s.seats - s.free} of ${s.seats} taken`
            }</td><td><a href="${esc(`${s.server.public}/instructor?token=${encodeURIComponent(t)}`)}" target="_blank" rel="noopener">instructor’s view</a></td></tr>`,
        )
        .join('\n');
      const taken = all.reduce((n, s) => n + s.seats - s.free, 0);
      const seats = all.reduce((n, s) => n + s.seats, 0);
      return answer(
        res,
        200,
        'text/html; charset=utf-8',
        `<!doctype html><meta charset="utf-8"><title>Podnet workshop: the room's servers</title>
<style>body{font:14px system-ui;margin:2em}td,th{padding:.3em 1em;text-align:left}</style>
<h1>The room's seat servers</h1><p data-testid="front-total">${taken} of ${seats} seats taken on ${all.length} servers</p>
<table><tr><th>#</th><th>server</th><th>seats</th><th></th></tr>
${rows}</table>\n`,
      );
    }
    answer(res, 404, 'text/plain; charset=utf-8', 'Not found: the join link is /join?room=CODE\n');
  };

  const server = createServer((req, res) => {
    serve(req, res).catch((e: Error) => {
      if (!res.headersSent) answer(res, 500, 'text/plain', `${e.message}\n`);
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => ok());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1'}:${port}`,
    port,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
