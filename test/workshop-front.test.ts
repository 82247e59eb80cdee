// A cluster room's front (podnet workshop front) over real HTTP, in front of two real seat servers of one
// room (one seat each, sharing the room code and the instructor's token as a Secret gives them): joins go
// to the server with free seats, a full room says so, the instructor's page lists both; and a seat server
// behind an Ingress (--public-url) answers to the public name and hands out seat URLs under it.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseServers, startFront, type Front } from '../src-main/workshop/front.js';
import { newToken } from '../src-main/workshop/secrets.js';
import { startWorkshop, type Workshop } from '../src-main/workshop/workshop-server.js';
import { RENDERER } from './e2e/harness.js';

const code = 'FRNT7K2Q';
const instructorToken = newToken();
const servers: Workshop[] = [];
const states: string[] = [];
let front: Front;

beforeAll(async () => {
  for (let i = 0; i < 2; i++) {
    const state = mkdtempSync(join(tmpdir(), 'podnet-front-test-'));
    states.push(state);
    servers.push(
      await startWorkshop({
        seats: 1,
        idleMs: 60 * 60_000,
        stateDir: state,
        rendererDir: RENDERER,
        code,
        instructorToken,
      }),
    );
  }
  front = await startFront({
    servers: servers.map((s) => ({ internal: s.host.origin, public: s.host.origin })),
    code,
    instructorToken,
  });
});
afterAll(async () => {
  await front?.close();
  for (const s of servers) await s.close();
  for (const d of states) rmSync(d, { recursive: true, force: true });
});

const get = (path: string) => fetch(`${front.url}${path}`, { redirect: 'manual' });

describe('podnet workshop front', () => {
  it('sends each join to a seat server with a free seat, then says the room is full', async () => {
    expect(servers.map((s) => s.room.code)).toEqual([code, code]);
    const taken: string[] = [];
    for (const name of ['Ada', 'Grace']) {
      const page = await get(`/join?room=${code.toLowerCase()}`);
      expect(page.status).toBe(302);
      const to = page.headers.get('location')!;
      expect(servers.map((s) => `${s.host.origin}/join?room=${code}`)).toContain(to);
      // a script's POST follows the 307 with its body to the same kind of server
      const r = await fetch(`${front.url}/api/join?room=${code}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      expect(r.status).toBe(200);
      const seat = (await r.json()) as { url: string; name: string };
      expect(seat.name).toBe(name);
      taken.push(new URL(seat.url).origin);
    }
    // one seat on each server: the front spread them
    expect(taken.sort()).toEqual(servers.map((s) => s.host.origin).sort());
    const full = await get(`/join?room=${code}`);
    expect(full.status).toBe(409);
    expect(await full.text()).toMatch(/All 2 seats of this room are taken/);
  });

  it('refuses a wrong room code and a wrong instructor token; the instructor’s page lists every server', async () => {
    expect((await get('/join?room=WRONG2')).status).toBe(404);
    expect((await get('/join')).status).toBe(404);
    expect((await get(`/instructor?token=${'x'.repeat(32)}`)).status).toBe(403);
    const page = await get(`/instructor?token=${instructorToken}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toMatch(/2 of 2 seats taken on 2 servers/);
    for (const s of servers) expect(html).toContain(`${s.host.origin}/instructor?token=${instructorToken}`);
    // each server's own instructor's view takes the shared token
    expect(servers.every((s) => s.room.isInstructor(instructorToken))).toBe(true);
  });

  it('says so when no seat server answers', async () => {
    const lone = await startFront({
      servers: [{ internal: 'http://127.0.0.1:1', public: 'http://127.0.0.1:1' }],
      code,
      instructorToken,
    });
    try {
      const r = await fetch(`${lone.url}/join?room=${code}`, { redirect: 'manual' });
      expect(r.status).toBe(503);
      expect(await r.text()).toMatch(/No seat server of this room answers/);
    } finally {
      await lone.close();
    }
  });

  it('reads its --servers list, refusing what is not an origin', () => {
    expect(parseServers('http://seat-0.seats:8080=https://seat-0.example,http://seat-1.seats:8080')).toEqual([
      { internal: 'http://seat-0.seats:8080', public: 'https://seat-0.example' },
      { internal: 'http://seat-1.seats:8080', public: 'http://seat-1.seats:8080' },
    ]);
    expect(() => parseServers('seat-0:8080')).toThrow(/not an origin/);
    expect(() => parseServers('http://a/join')).toThrow(/not an origin/);
    expect(() => parseServers('')).toThrow(/at least one/);
  });
});

describe('a seat server behind an Ingress (--public-url)', () => {
  let w: Workshop;
  let state: string;
  beforeAll(async () => {
    state = mkdtempSync(join(tmpdir(), 'podnet-front-test-'));
    w = await startWorkshop({
      seats: 2,
      idleMs: 60 * 60_000,
      stateDir: state,
      rendererDir: RENDERER,
      publicUrl: 'https://seat-0.workshop.example',
    });
  });
  afterAll(async () => {
    await w?.close();
    rmSync(state, { recursive: true, force: true });
  });

  it('answers to the public name, shows its URLs under it, and still refuses another name', async () => {
    expect(w.joinUrl).toBe(`https://seat-0.workshop.example/join?room=${w.room.code}`);
    const local = `http://127.0.0.1:${w.host.port}`;
    // as the Ingress forwards a learner's request: the public Host, the public page's Origin (node:http: fetch sets its own Host)
    const asIngress = (method: string, path: string, host: string, body?: string) =>
      new Promise<{ status: number; body: string }>((ok, fail) => {
        const q = request(
          {
            host: '127.0.0.1',
            port: w.host.port,
            method,
            path,
            headers: { Host: host, Origin: `https://${host}`, 'Content-Type': 'application/json' },
          },
          (res) => {
            let b = '';
            res.on('data', (d: Buffer) => (b += d.toString()));
            res.on('end', () => ok({ status: res.statusCode!, body: b }));
          },
        );
        q.on('error', fail);
        q.end(body);
      });
    const r = await asIngress('POST', `/api/join?room=${w.room.code}`, 'seat-0.workshop.example', '{"name":"Ada"}');
    expect(r.status).toBe(200);
    expect((JSON.parse(r.body) as { url: string }).url).toMatch(
      /^https:\/\/seat-0\.workshop\.example\/\?token=[\w-]{32}$/,
    );
    expect((await asIngress('GET', `/join?room=${w.room.code}`, 'seat-0.workshop.example')).status).toBe(200);
    expect((await asIngress('GET', `/join?room=${w.room.code}`, 'evil.example')).status).toBe(403);
    const seats = await fetch(`${local}/api/seats?room=${w.room.code}`);
    expect(await seats.json()).toEqual({ free: 1, seats: 2 });
    expect((await fetch(`${local}/api/seats?room=NOPE22`)).status).toBe(403);
    expect(await (await fetch(`${local}/healthz`)).text()).toBe('ok\n');
  });
});
