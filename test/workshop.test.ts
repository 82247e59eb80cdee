// The workshop server (issue 19) over its real HTTP and WebSockets, with real engines and worlds: the join
// limits, each seat's token reaching only its seat, a read-only mirror, a reconnect to the same seat, and
// an idle world stopped and rebuilt with the learner's progress kept.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startWorkshop, type Workshop } from '../src-main/workshop/workshop-server.js';
import { NetviewPart } from '../src-main/netview/netview-part.js';
import type { SessionPart } from '../src-main/session/session.js';
import { stepBudgetMs } from '../src-main/workshop/room.js';
import { INSTRUCTOR_JS, JOIN_JS } from '../src-main/workshop/pages.js';
import { Script } from 'node:vm';
import { RENDERER } from './e2e/harness.js';

let w: Workshop;
let state: string;
let base: string;

beforeAll(async () => {
  state = mkdtempSync(join(tmpdir(), 'podnet-workshop-test-'));
  w = await startWorkshop({ seats: 3, idleMs: 60 * 60_000, stateDir: state, rendererDir: RENDERER });
  base = w.host.origin;
});
afterAll(async () => {
  await w?.close();
  rmSync(state, { recursive: true, force: true });
});

async function join_(name: unknown, opts: { code?: string; headers?: Record<string, string>; body?: string } = {}) {
  const r = await fetch(`${base}/api/join?room=${opts.code ?? w.room.code}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...opts.headers },
    body: opts.body ?? JSON.stringify({ name }),
  });
  return { status: r.status, body: (await r.json()) as { url?: string; error?: string; seat?: string } };
}

/** A wire message read back as JSON (asserted on, or read, field by field). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Wire = any;

/** Every text message each socket received, from its first (a greeting can come with the upgrade's answer). */
const received = new WeakMap<WebSocket, Wire[]>();

/** A socket to /rpc with a token (as the page offers it), or to /instructor. */
function socket(token: string, path = '/rpc', protocol = 'podnet', port = w.host.port): Promise<WebSocket> {
  return new Promise((res, rej) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, [protocol, `podnet-token.${token}`], {
      headers: { Origin: `http://127.0.0.1:${port}` },
    });
    const got: Wire[] = [];
    received.set(ws, got);
    ws.on('message', (d: Buffer, binary: boolean) => !binary && got.push(JSON.parse(d.toString())));
    ws.once('open', () => res(ws));
    ws.once('unexpected-response', (_req, r) => rej(new Error(`HTTP ${r.statusCode}`)));
    ws.once('error', rej);
  });
}

let seq = 1;
/** One request over a socket: its result, or throws its error's code and message. */
function call(ws: WebSocket, method: string, params: unknown = {}): Promise<Wire> {
  const id = seq++;
  return new Promise((res, rej) => {
    const on = (data: Buffer, binary: boolean) => {
      if (binary) return;
      const m = JSON.parse(data.toString());
      if (m.id !== id) return;
      ws.off('message', on);
      if (m.error) rej(new Error(`${m.error.code}: ${m.error.message}`));
      else res(m.result);
    };
    ws.on('message', on);
    ws.send(JSON.stringify({ id, method, params }));
  });
}

/** The events of a kind a socket has received so far. */
const eventsOf = (ws: WebSocket, name: string): unknown[] =>
  received
    .get(ws)!
    .filter((m) => m.event === name)
    .map((m) => m.payload);

const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;

describe('joining a room', () => {
  it('needs the room code, JSON from this server’s own pages, and a valid name; a duplicate or a full room gets 409', async () => {
    expect(await join_('Ada', { code: '' })).toMatchObject({ status: 403, body: { error: /room code/ } });
    expect(await join_('Ada', { code: 'ZZZZZZ' })).toMatchObject({ status: 403 });
    expect(await join_('Ada', { headers: { Origin: 'http://evil.example' } })).toMatchObject({
      status: 403,
      body: { error: /Origin/ },
    });
    expect(await join_('Ada', { headers: { 'Content-Type': 'text/plain' } })).toMatchObject({ status: 400 });
    expect(await join_('Ada', { body: '{"name": ' })).toMatchObject({ status: 400, body: { error: /not JSON/ } });
    expect(await join_('Ada', { body: JSON.stringify({ name: 'x'.repeat(5000) }) })).toMatchObject({
      status: 400,
      body: { error: /larger than 4096 bytes/ },
    });
    for (const bad of ['', '   ', 'x'.repeat(41), '<b>hi</b>', ' -dash', 42, null])
      expect((await join_(bad)).status, `name ${JSON.stringify(bad)}`).toBe(400);
    expect((await fetch(`${base}/api/join?room=${w.room.code}`)).status).toBe(405);
    expect(w.room.size).toBe(0);

    const ada = await join_('  Ada   Lovelace ');
    expect(ada.status).toBe(200);
    expect(ada.body.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${w.host.port}/\\?token=[\\w-]{32}$`));
    // the same name, in another case: never the other learner's seat (its token is theirs)
    expect(await join_('ada lovelace')).toMatchObject({ status: 409, body: { error: /taken/ } });
    const grace = await join_('Grace');
    const zoë = await join_('Zoë');
    expect([grace.status, zoë.status]).toEqual([200, 200]);
    expect(new Set([ada, grace, zoë].map((j) => tokenOf(j.body.url!))).size).toBe(3);
    expect(await join_('Dan')).toMatchObject({
      status: 409,
      body: { error: 'all 3 seats of this room are taken: ask the instructor' },
    });
    // the join page says so before anyone types; a wrong code is a 404 that says what to do
    const page = await (await fetch(`${base}/join?room=${w.room.code}`)).text();
    expect(page).toContain('All 3 seats of this room are taken');
    const wrong = await fetch(`${base}/join?room=NOPE`);
    expect(wrong.status).toBe(404);
    expect(await wrong.text()).toMatch(/ask the instructor for the join URL/);
    const csp = (await fetch(`${base}/join?room=${w.room.code}`)).headers.get('content-security-policy');
    expect(csp).toMatch(/script-src 'self';/);
    // each seat's progress folder, its own, under the state folder
    expect(w.room.list().map((s) => s.progressDir)).toEqual([1, 2, 3].map((n) => join(state, `seat-${n}`, 'progress')));
  });

  it('a seat’s token reaches its seat only; a wrong token, another socket’s path or no Origin is refused', async () => {
    const [ada, grace] = w.room.list();
    await expect(socket('not-a-token')).rejects.toThrow('HTTP 401');
    await expect(socket(ada!.token, '/instructor', 'podnet-instructor')).rejects.toThrow('HTTP 401');
    await expect(socket(w.room.instructorToken)).rejects.toThrow('HTTP 401');
    const noOrigin = new WebSocket(`ws://127.0.0.1:${w.host.port}/rpc`, ['podnet', `podnet-token.${ada!.token}`]);
    await expect(
      new Promise((res, rej) => {
        noOrigin.once('unexpected-response', (_q, r) => rej(new Error(`HTTP ${r.statusCode}`)));
        noOrigin.once('open', res);
      }),
    ).rejects.toThrow('HTTP 403');
    const a = await socket(ada!.token);
    const g = await socket(grace!.token);
    try {
      const started = await call(a, 'world.start', { nodes: 1 });
      expect(started.state).toBe('running');
      expect((await call(g, 'world.status')).state).toBe('stopped');
      // a seat's page asks for a sandbox ahead as any page does: the room starts none (an idle seat holds nothing)
      expect(await call(g, 'world.prepare')).toEqual({ ok: true });
      expect(grace!.engine.session.reserve.held).toBe(false);
      const t = await call(a, 'terminal.open', { target: { kind: 'node', node: 'node1' }, cols: 80, rows: 24 });
      expect((await call(a, 'terminal.list')).map((x: { id: string }) => x.id)).toEqual([t.id]);
      expect(await call(g, 'terminal.list')).toEqual([]);
      // Grace's socket cannot type into Ada's terminal: the id means nothing in her seat
      await expect(call(g, 'terminal.input', { id: t.id, data: 'echo x\n' })).rejects.toThrow(/no world is running/);
    } finally {
      a.close();
      g.close();
    }
  }, 120_000);

  it('a reconnect with the same seat URL finds the same world and terminal, its output kept', async () => {
    const ada = w.room.list()[0]!;
    const a = await socket(ada.token);
    const [t] = await call(a, 'terminal.list');
    await call(a, 'terminal.input', { id: t.id, data: 'echo seat-$((6*7))-marker\n' });
    await expect
      .poll(async () => Buffer.from((await call(a, 'terminal.scrollback', { id: t.id })).data, 'base64').toString(), {
        timeout: 20_000,
      })
      .toMatch(/seat-42-marker/);
    a.terminate();
    await expect.poll(() => ada.connected, { timeout: 5000 }).toBe(0);
    const again = await socket(ada.token);
    try {
      expect((await call(again, 'world.status')).state).toBe('running');
      const list = await call(again, 'terminal.list');
      expect(list.map((x: { id: string }) => x.id)).toEqual([t.id]);
      const back = Buffer.from((await call(again, 'terminal.scrollback', { id: t.id })).data, 'base64').toString();
      expect(back).toMatch(/seat-42-marker/);
      expect(ada.connected).toBe(1);
    } finally {
      again.close();
    }
  }, 60_000);

  it('a read-only mirror sees the seat and its terminal’s output, and can change nothing', async () => {
    const ada = w.room.list()[0]!;
    const m = await socket(ada.watchToken);
    const a = await socket(ada.token);
    try {
      const [t] = await call(m, 'terminal.list');
      expect((await call(m, 'world.status')).state).toBe('running');
      const seen: Buffer[] = [];
      m.on('message', (d: Buffer, binary: boolean) => binary && seen.push(d));
      await call(a, 'terminal.input', { id: t.id, data: 'echo mirrored-$((2*21))\n' });
      await expect.poll(() => Buffer.concat(seen).toString(), { timeout: 10_000 }).toMatch(/mirrored-42/);
      for (const [method, params] of [
        ['terminal.input', { id: t.id, data: 'echo from-mirror\n' }],
        ['terminal.resize', { id: t.id, cols: 20, rows: 5 }],
        ['terminal.close', { id: t.id }],
        ['world.stop', {}],
        ['lab.open', { id: '01-network-namespaces' }],
        ['pod.create', { name: 'x', node: 'node1' }],
      ] as const)
        await expect(call(m, method, params), method).rejects.toThrow(
          /^unauthorized: this is a read-only mirror of Ada Lovelace's seat/,
        );
      expect((await call(a, 'terminal.list'))[0]).toMatchObject({ id: t.id, exited: false });
      expect((await call(a, 'world.status')).state).toBe('running');
      expect(eventsOf(m, 'workshop.notice')).toEqual([
        { kind: 'mirror', text: "Read-only mirror of Ada Lovelace's seat", at: expect.any(Number) },
      ]);
    } finally {
      m.close();
      a.close();
    }
  }, 60_000);

  it('a mirror’s live views are released when its tab closes: the seat reads nothing more for it', async () => {
    const ada = w.room.list()[0]!;
    const netview = (ada.engine.session as unknown as { parts: SessionPart[] }).parts.find(
      (p): p is NetviewPart => p instanceof NetviewPart,
    )!;
    const before = netview.stats;
    const m = await socket(ada.watchToken);
    await call(m, 'netview.watchTopology');
    await call(m, 'netview.watch', { ns: 'node:node1' });
    await call(m, 'netview.watch', { ns: 'node:node1' });
    await call(m, 'netview.unwatch', { ns: 'node:node1' });
    expect(netview.stats).toMatchObject({
      watched: before.watched + 1,
      topologyWatchers: before.topologyWatchers + 1,
    });
    m.close();
    await expect
      .poll(() => netview.stats, { timeout: 5000 })
      .toMatchObject({ watched: before.watched, topologyWatchers: before.topologyWatchers });
  }, 60_000);

  it('the instructor’s socket: a message reaches every seat (and a page opened later); reset a seat; a lab for all', async () => {
    const [ada, grace] = w.room.list();
    const i = await socket(w.room.instructorToken, '/instructor', 'podnet-instructor');
    const got = received.get(i)!;
    const snapshots = {
      get length() {
        return got.filter((m) => m.type === 'room').length;
      },
      get 0() {
        return got.find((m) => m.type === 'room');
      },
    };
    const replyList = () => got.filter((m) => m.type === 'reply');
    const g = await socket(grace!.token);
    const notices = () => eventsOf(g, 'workshop.notice');
    try {
      await expect.poll(() => snapshots.length).toBeGreaterThan(0);
      expect(snapshots[0].seats.map((s: { name: string }) => s.name)).toEqual(['Ada Lovelace', 'Grace', 'Zoë']);
      expect(snapshots[0].labs.length).toBeGreaterThan(10);
      i.send(JSON.stringify({ id: 1, op: 'message', text: 'Break until 11:00' }));
      await expect.poll(() => notices().length).toBe(1);
      expect(notices()[0]).toMatchObject({ kind: 'message', text: 'Break until 11:00' });
      await expect.poll(() => replyList().length).toBe(1);
      expect(replyList()[0]).toMatchObject({ type: 'reply', id: 1, ok: true, message: 'sent to 3 seats' });
      const later = await socket(ada!.token);
      await expect.poll(() => received.get(later)!.length).toBeGreaterThan(0);
      expect(received.get(later)![0]).toMatchObject({
        event: 'workshop.notice',
        payload: { kind: 'message', text: 'Break until 11:00' },
      });
      later.close();
      i.send(JSON.stringify({ id: 2, op: 'reset', seat: 'nope' }));
      i.send(JSON.stringify({ id: 3, op: 'rm -rf' }));
      await expect.poll(() => replyList().length).toBe(3);
      const replies = replyList().sort((x, y) => x.id - y.id);
      expect(replies[1]).toMatchObject({ id: 2, ok: false, message: 'no seat "nope" in this room' });
      expect(replies[2]).toMatchObject({ id: 3, ok: false });
      // a seat in free play is reset to a fresh world; then a lab is opened in every seat
      const before = ada!.engine.session.runningWorld;
      expect(before).toBeDefined();
      i.send(JSON.stringify({ id: 4, op: 'reset', seat: ada!.id }));
      await expect.poll(() => replyList().find((m) => m.id === 4), { timeout: 60_000 }).toBeDefined();
      expect(replyList().find((m) => m.id === 4)).toMatchObject({
        ok: true,
        message: "Ada Lovelace's world was started afresh",
      });
      expect(ada!.engine.session.runningWorld).toBeDefined();
      expect(ada!.engine.session.runningWorld).not.toBe(before);
      i.send(JSON.stringify({ id: 5, op: 'assign', lab: '01-network-namespaces' }));
      await expect.poll(() => replyList().find((m) => m.id === 5), { timeout: 120_000 }).toBeDefined();
      expect(replyList().find((m) => m.id === 5)).toMatchObject({
        ok: true,
        message: 'lab 01-network-namespaces is open in every seat (3)',
      });
      for (const s of w.room.list())
        expect(s.summary()).toMatchObject({ lab: { id: '01-network-namespaces' }, step: 0, world: 'running' });
      // Grace's page hears it: the lab's view comes as an event
      await expect
        .poll(() => eventsOf(g, 'lab.changed').some((v: Wire) => v?.id === '01-network-namespaces'))
        .toBe(true);
      // the instructor's view shows it, pushed
      await expect
        .poll(() =>
          got
            .filter((m) => m.type === 'room')
            .at(-1)
            .seats.map((s: { lab: { id: string } | null }) => s.lab?.id),
        )
        .toEqual(['01-network-namespaces', '01-network-namespaces', '01-network-namespaces']);
    } finally {
      i.close();
      g.close();
    }
  }, 180_000);
});

describe('the join limit', () => {
  it('one address past its burst gets 429 with a reason and Retry-After, and no seat; another room is apart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podnet-workshop-limit-'));
    const small = await startWorkshop({
      seats: 5,
      idleMs: 60 * 60_000,
      stateDir: dir,
      rendererDir: RENDERER,
      joinRate: { burst: 2, perSecond: 0.01 },
    });
    try {
      const post = (name: string, code = small.room.code) =>
        fetch(`${small.host.origin}/api/join?room=${code}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ name }),
        });
      expect((await post('Ada')).status).toBe(200);
      // a wrong code costs a try too: guessing codes is what the limit slows
      expect((await post('Grace', 'WRONG1')).status).toBe(403);
      const r = await post('Grace');
      expect(r.status).toBe(429);
      expect(r.headers.get('retry-after')).toBe('100');
      expect(await r.json()).toEqual({
        error:
          'too many joins from this address: try again in 100 s (a script handing out seats: wait for Retry-After)',
      });
      expect(small.room.size).toBe(1);
      // the main room's bucket is its own: it answers for itself (a seat, or full), not 429
      const full = w.room.size >= 3;
      expect((await join_('Limit Check')).status).toBe(full ? 409 : 200);
    } finally {
      await small.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('podnet workshop', () => {
  const PODNET = join(import.meta.dirname, '../bin/podnet.mjs');
  it('refuses a bad option with the usage line', () => {
    for (const [args, text] of [
      [['--seats', '0'], /--seats must be a whole number from 1 to 500, not "0"/],
      [['--idle-minutes', 'soon'], /--idle-minutes must be a number of minutes above 0/],
      [['--labs', '/nonexistent-labs'], /--labs \/nonexistent-labs: no such folder/],
    ] as const) {
      const r = spawnSync(process.execPath, [PODNET, 'workshop', ...args], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(text);
    }
  });

  it('prints the join and instructor URLs, serves the join page, and ends cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'podnet-workshop-cli-'));
    const p = spawn(process.execPath, [PODNET, 'workshop', '--seats', '2', '--state', dir], { stdio: 'pipe' });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await expect.poll(() => out, { timeout: 20_000 }).toMatch(/instructor: /);
      const [joinLine, instructorLine] = out.trim().split('\n');
      expect(joinLine).toMatch(/^join: http:\/\/127\.0\.0\.1:\d+\/join\?room=[A-Z2-9]{6}$/);
      expect(instructorLine).toMatch(/^instructor: http:\/\/127\.0\.0\.1:\d+\/instructor\?token=[\w-]{32}$/);
      const page = await fetch(joinLine!.slice('join: '.length));
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Type your name to take a seat');
    } finally {
      p.kill('SIGTERM');
      expect(await new Promise((r) => p.once('exit', (code) => r(code)))).toBe(0);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the pages’ scripts', () => {
  it('parse (served as files of their own: the CSP allows no inline script)', () => {
    for (const js of [JOIN_JS, INSTRUCTOR_JS]) expect(() => new Script(js)).not.toThrow();
  });
});

describe('the instructor’s flag', () => {
  it('is three times a step’s share of the lab’s stated time', () => {
    // a 10-minute lab of 3 steps: a step's share is 200 s; flagged after 600 s
    expect(stepBudgetMs(10, 3)).toBe(600_000);
    expect(stepBudgetMs(25, 5)).toBe(15 * 60_000);
  });
});

describe('worlds on demand', () => {
  let idle: Workshop;
  let dir: string;
  afterAll(async () => {
    await idle?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an idle seat’s world is stopped with its progress kept, and rebuilt at the same step when the learner returns', async () => {
    dir = mkdtempSync(join(tmpdir(), 'podnet-workshop-idle-'));
    // 3 s idle; the room looks every second
    idle = await startWorkshop({ seats: 2, idleMs: 3000, stateDir: dir, rendererDir: RENDERER });
    const r = await fetch(`${idle.host.origin}/api/join?room=${idle.room.code}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Idle' }),
    });
    const seat = idle.room.list()[0]!;
    const token = tokenOf(((await r.json()) as { url: string }).url);
    const connect = () => socket(token, '/rpc', 'podnet', idle.host.port);
    const ws = await connect();
    // the lab's world is built by lab.open; step 1 solved, the learner goes on to step 2
    const opened = await call(ws, 'lab.open', { id: '01-network-namespaces' });
    expect(opened.current).toBe(0);
    expect((await call(ws, 'lab.solution')).complete).toBe(true);
    expect((await call(ws, 'lab.goto', { step: 1 })).current).toBe(1);
    expect(seat.summary()).toMatchObject({ lab: { id: '01-network-namespaces', steps: 3 }, step: 1, world: 'running' });
    const progressFile = join(dir, 'seat-1', 'progress', '01-network-namespaces.json');
    expect(JSON.parse(readFileSync(progressFile, 'utf8'))).toMatchObject({ current: 1, done: [0] });
    ws.close();

    // nothing for 3 s: the world stops, the progress stays on disk
    await expect.poll(() => seat.summary().world, { timeout: 20_000, interval: 250 }).toBe('stopped');
    expect(seat.summary().idleStopped).toBe(true);
    expect(existsSync(progressFile)).toBe(true);
    expect(JSON.parse(readFileSync(progressFile, 'utf8'))).toMatchObject({ current: 1, done: [0] });

    // the learner's page comes back: the lab's world is rebuilt at step 2, step 1's solution applied
    const back = await connect();
    try {
      await expect.poll(() => seat.summary().world, { timeout: 60_000, interval: 250 }).toBe('running');
      await expect.poll(async () => (await call(back, 'lab.state'))?.busy ?? null, { timeout: 60_000 }).toBeNull();
      const view = await call(back, 'lab.state');
      expect(view).toMatchObject({ id: '01-network-namespaces', current: 1, done: [0] });
      expect(seat.summary().idleStopped).toBe(false);
      // step 1's solution is in the rebuilt world: its namespace exists again
      const ns = await idle.room
        .list()[0]!
        .engine.session.runningWorld!.exec({ kind: 'node', node: 'node1' }, ['ip', 'netns', 'list']);
      expect(ns.stdout).toMatch(/\S/);
    } finally {
      back.close();
    }
  }, 180_000);
});
