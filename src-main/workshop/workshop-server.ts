// The workshop server: one listening socket for the whole room. The browser host's /rpc routes each
// socket by its token to its seat's engine (or to a seat's read-only mirror); the join page and
// POST /api/join hand out seats to whoever has the room code; /instructor is the instructor's live view.
import { existsSync, readdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';
import { defaultLabsDir } from '../labs/lab-part.js';
import { LAB_FILE, lintLab } from '../labs/loader.js';
import { offeredToken, PAGE_HEADERS, startWebHost, type WebHost } from '../web/server.js';
import { INSTRUCTOR_JS, instructorPage, JOIN_JS, joinPage, WORKSHOP_CSS } from './pages.js';
import { JoinError, Room, type RoomOptions } from './room.js';
import { JoinLimit, type JoinRate } from './join-limit.js';

export interface WorkshopOptions extends Omit<RoomOptions, 'stateDir'> {
  stateDir: string;
  rendererDir: string;
  host?: string;
  port?: number;
  /** How often one address may join (DEFAULT_JOIN_RATE where not given). */
  joinRate?: JoinRate;
  /** The origin learners reach this server at through a cluster's Ingress (docs/workshop.md). */
  publicUrl?: string;
}

export interface Workshop {
  room: Room;
  host: WebHost;
  /** For the room: the join page with the room code. */
  joinUrl: string;
  /** The instructor's view, with its own secret. */
  instructorUrl: string;
  close(): Promise<void>;
}

/** The largest join request body: a name and a little JSON. */
const JOIN_BODY_LIMIT = 4096;

const InstructorRequest = z.discriminatedUnion('op', [
  z.object({ id: z.number().int(), op: z.literal('reset'), seat: z.string().max(16) }).strict(),
  z
    .object({ id: z.number().int(), op: z.literal('assign'), lab: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/) })
    .strict(),
  z.object({ id: z.number().int(), op: z.literal('message'), text: z.string().max(500) }).strict(),
]);

function labCatalogue(dir: string): { id: string; title: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, LAB_FILE)))
    .map((d) => d.name)
    .sort()
    .map((id) => ({ id, title: lintLab(join(dir, id)).lab?.meta.title ?? id }));
}

function answer(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { ...PAGE_HEADERS, 'Content-Type': type });
  res.end(body);
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  answer(res, status, 'application/json', JSON.stringify(body) + '\n');

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const parts: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > JOIN_BODY_LIMIT) throw new JoinError(400, `the request is larger than ${JOIN_BODY_LIMIT} bytes`);
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}

export async function startWorkshop(opts: WorkshopOptions): Promise<Workshop> {
  const room = new Room(opts);
  const labsDir = opts.labsDir ?? defaultLabsDir();
  const pub = opts.publicUrl ? new URL(opts.publicUrl) : undefined;
  const limit = new JoinLimit(opts.joinRate);
  const sweep = setInterval(() => limit.sweep(), 60_000);
  sweep.unref();

  const joinApi = async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    try {
      // counted before anything else: a wrong room code costs a try as a right one does
      const wait = limit.take(req.socket.remoteAddress ?? '');
      if (wait > 0)
        throw new JoinError(
          429,
          `too many joins from this address: try again in ${wait} s (a script handing out seats: wait for Retry-After)`,
          wait,
        );
      // a page of another site may not take seats in the browser of someone who has the code
      const origin = req.headers.origin;
      const self = pub && req.headers.host === pub.host ? pub.origin : `http://${req.headers.host}`;
      if (origin !== undefined && origin !== self)
        throw new JoinError(403, 'a join must come from this server’s own join page (Origin refused)');
      if (!room.codeOk(url.searchParams.get('room')))
        throw new JoinError(403, 'the room code is missing or wrong: use the join URL the instructor gave');
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
        throw new JoinError(400, 'send JSON: Content-Type: application/json, body {"name": "…"}');
      let body: unknown;
      try {
        body = JSON.parse(await readBody(req));
      } catch (e) {
        if (e instanceof JoinError) throw e;
        throw new JoinError(400, 'the body is not JSON: send {"name": "…"}');
      }
      const name = (body as { name?: unknown } | null)?.name;
      const seat = room.join(name);
      json(res, 200, { url: `${self}/?token=${seat.token}`, seat: seat.id, name: seat.name });
    } catch (e) {
      if (e instanceof JoinError) {
        if (e.retryAfterS !== undefined) res.setHeader('Retry-After', String(e.retryAfterS));
        return json(res, e.status, { error: e.message });
      }
      throw e;
    }
  };

  const http = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const get = req.method === 'GET' || req.method === 'HEAD';
    switch (url.pathname) {
      case '/api/join':
        if (req.method !== 'POST') json(res, 405, { error: 'POST {"name": "…"} to join' });
        else await joinApi(req, res, url);
        return true;
      case '/healthz':
        // a cluster's readiness probe: the server answers (it says nothing of the room)
        answer(res, 200, 'text/plain; charset=utf-8', 'ok\n');
        return true;
      case '/api/seats':
        // for a cluster's front (podnet workshop front): how many seats are free, to whoever has the room code
        if (!get) return false;
        if (!room.codeOk(url.searchParams.get('room'))) json(res, 403, { error: 'the room code is missing or wrong' });
        else json(res, 200, { free: opts.seats - room.size, seats: opts.seats });
        return true;
      case '/join':
        if (!get) return false;
        if (!room.codeOk(url.searchParams.get('room')))
          answer(
            res,
            404,
            'text/plain; charset=utf-8',
            'This join link has no room code, or not this room’s: ask the instructor for the join URL.\n',
          );
        else
          answer(res, 200, 'text/html; charset=utf-8', joinPage({ free: opts.seats - room.size, seats: opts.seats }));
        return true;
      case '/instructor':
        if (!get) return false;
        answer(res, 200, 'text/html; charset=utf-8', instructorPage());
        return true;
      case '/workshop/join.js':
        answer(res, 200, 'text/javascript; charset=utf-8', JOIN_JS);
        return true;
      case '/workshop/instructor.js':
        answer(res, 200, 'text/javascript; charset=utf-8', INSTRUCTOR_JS);
        return true;
      case '/workshop/workshop.css':
        answer(res, 200, 'text/css; charset=utf-8', WORKSHOP_CSS);
        return true;
      default:
        return false;
    }
  };

  const instructors = new WebSocketServer({
    noServer: true,
    maxPayload: 64 * 1024,
    handleProtocols: (offered) => (offered.has('podnet-instructor') ? 'podnet-instructor' : false),
  });
  const views = new Set<WebSocket>();
  /** The labs a view may assign: read when a view opens (~100 ms of lab files), not on each change of the room. */
  let labs: { id: string; title: string }[] = [];
  const snapshot = () =>
    JSON.stringify({
      type: 'room',
      code: room.code,
      capacity: opts.seats,
      seats: room.summaries(),
      labs,
      now: Date.now(),
    });
  room.on('changed', () => {
    if (!views.size) return;
    const text = snapshot();
    for (const ws of views) if (ws.readyState === ws.OPEN) ws.send(text);
  });

  const onInstructor = async (ws: WebSocket, data: Buffer): Promise<void> => {
    let id = -1;
    try {
      const raw: unknown = JSON.parse(data.toString());
      id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : -1;
      const r = InstructorRequest.safeParse(raw);
      if (!r.success) throw new Error('not a request of the instructor’s view: {id, op: reset|assign|message, …}');
      const m = r.data;
      let message: string;
      if (m.op === 'reset') message = await room.reset(m.seat);
      else if (m.op === 'assign') message = await room.assign(m.lab);
      else {
        room.message(m.text);
        message = `sent to ${room.size} seat${room.size === 1 ? '' : 's'}`;
      }
      ws.send(JSON.stringify({ type: 'reply', id, ok: true, message }));
    } catch (e) {
      ws.send(JSON.stringify({ type: 'reply', id, ok: false, message: (e as Error).message }));
    }
  };

  const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): boolean => {
    if (url.pathname !== '/instructor') return false;
    if (!room.isInstructor(offeredToken(req))) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return true;
    }
    instructors.handleUpgrade(req, socket, head, (ws) => {
      views.add(ws);
      ws.on('close', () => views.delete(ws));
      ws.on('error', () => ws.terminate());
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        void onInstructor(ws, data as Buffer);
      });
      labs = labCatalogue(labsDir);
      ws.send(snapshot());
    });
    return true;
  };

  const host = await startWebHost({
    routes: (token) => room.route(token),
    http,
    upgrade,
    rendererDir: opts.rendererDir,
    ...(opts.host ? { host: opts.host } : {}),
    port: opts.port ?? 0,
    ...(opts.publicUrl ? { publicUrl: opts.publicUrl } : {}),
  });
  return {
    room,
    host,
    joinUrl: `${host.origin}/join?room=${room.code}`,
    instructorUrl: `${host.origin}/instructor?token=${room.instructorToken}`,
    close: async () => {
      clearInterval(sweep);
      for (const ws of views) ws.terminate();
      instructors.close();
      await host.close().catch(() => {});
      await room.dispose();
    },
  };
}
