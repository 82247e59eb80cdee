// The browser host refuses what it must: a socket with no token or a wrong one, a foreign Host, a foreign
// Origin; the static files are the public build (no cookie, no token needed); and a message that does not
// fit the contract gets a typed error and changes nothing.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createEngine, type Engine } from '../src-main/engine/engine.js';
import { externalUrlAllowed, isTrustedSender, navigationAllowed, windowOptions } from '../src-main/app/security.js';
import { TerminalService } from '../src-main/terminal/terminal-service.js';
import { PROTOCOL, startWebHost, tokenProtocol, type WebHost } from '../src-main/web/server.js';
import { wsText } from './helpers.js';

let host: WebHost;
let engine: Engine;
const renderer = mkdtempSync(join(tmpdir(), 'podnet-renderer-'));

function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: host.port, path, headers: { Host: `127.0.0.1:${host.port}`, ...headers } },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** A socket offering `protocols` (the page offers PROTOCOL and its token as tokenProtocol(token)). */
function socket(
  headers: Record<string, string>,
  protocols: string[] = [PROTOCOL, tokenProtocol(host.token)],
): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}/rpc`, protocols, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function call(ws: WebSocket, msg: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const onMsg = (d: Buffer, binary: boolean) => {
      if (binary) return; // a terminal's output (api/frames.ts)
      const m = JSON.parse(wsText(d));
      if ('event' in m) return;
      ws.off('message', onMsg);
      resolve(m);
    };
    ws.on('message', onMsg);
    ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  });
}

beforeAll(async () => {
  mkdirSync(join(renderer, 'assets'));
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>Podnet Lab</title>');
  writeFileSync(join(renderer, 'assets', 'app.js'), 'console.log(1)');
  engine = createEngine({ terminals: (w, r) => new TerminalService(w, r) });
  host = await startWebHost({ api: engine.api, events: engine.events, rendererDir: renderer });
});
afterAll(async () => {
  await host.close();
  await engine.dispose();
  rmSync(renderer, { recursive: true, force: true });
});

describe('browser host: HTTP', () => {
  it('binds to 127.0.0.1 and prints a URL with a long random token', () => {
    expect(host.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${host.port}/\\?token=[A-Za-z0-9_-]{32}$`));
  });
  it('serves the renderer (the public build) with a CSP, and never sets a cookie, with or without the token', async () => {
    for (const path of ['/', `/?token=${host.token}`]) {
      const page = await get(path);
      expect(page.status).toBe(200);
      expect(page.headers['set-cookie']).toBeUndefined();
      expect(page.body).toContain('<title>Podnet Lab</title>');
      expect(page.headers['content-security-policy']).toContain("script-src 'self'");
      expect(page.headers['referrer-policy']).toBe('no-referrer');
    }
    expect((await get('/assets/app.js')).headers['content-type']).toMatch(/^text\/javascript/);
  });
  it('refuses a path that is not a URL path, or not valid percent-encoding, with 400', async () => {
    expect((await get('//')).status).toBe(400);
    expect((await get('/%E0%A4%A')).status).toBe(400);
  });
  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const r = await get(`/?token=${host.token}`, { Host: `attacker.example:${host.port}` });
    expect(r.status).toBe(403);
  });
  it('never serves a file outside the renderer', async () => {
    const r = await get('/..%2F..%2Fetc%2Fpasswd');
    expect(r.status).toBe(404);
  });
});

describe('browser host: WebSocket', () => {
  const origin = () => `http://127.0.0.1:${host.port}`;
  it('refuses a socket without the token, with a wrong one, with a foreign Origin, or a foreign Host', async () => {
    await expect(socket({ Origin: origin() }, [PROTOCOL])).rejects.toThrow('HTTP 401');
    await expect(socket({ Origin: origin() }, [PROTOCOL, tokenProtocol('nope')])).rejects.toThrow('HTTP 401');
    // the cookie of old is no credential
    await expect(socket({ Origin: origin(), Cookie: `podnet_token=${host.token}` }, [PROTOCOL])).rejects.toThrow(
      'HTTP 401',
    );
    await expect(socket({ Origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(socket({})).rejects.toThrow('HTTP 403');
    await expect(socket({ Origin: origin(), Host: 'evil.example' })).rejects.toThrow('HTTP 403');
  });
  it('selects the plain protocol, never echoing the token', async () => {
    const ws = await socket({ Origin: origin() });
    expect(ws.protocol).toBe(PROTOCOL);
    ws.close();
  });
  it('answers the contract, and gives a typed error without side effects to what does not fit it', async () => {
    const ws = await socket({ Origin: origin() });
    try {
      expect(await call(ws, { id: 1, method: 'world.status', params: {} })).toEqual({
        id: 1,
        result: { state: 'stopped', nodes: [] },
      });
      expect(await call(ws, 'not json')).toEqual({
        id: -1,
        error: { code: 'bad-request', message: 'a message must be one JSON text frame: {id, method, params}' },
      });
      expect(await call(ws, { id: 2, method: 'rm -rf', params: {} })).toEqual({
        id: 2,
        error: { code: 'unknown-method', message: 'unknown method "rm -rf"' },
      });
      const bad = await call(ws, { id: 3, method: 'world.start', params: { nodes: 99 } });
      expect(bad).toMatchObject({ id: 3, error: { code: 'bad-request' } });
      expect((bad.error as { message: string }).message).toMatch(/^invalid params for world\.start: nodes: /);
      expect(
        await call(ws, { id: 4, method: 'pod.create', params: { name: 'Bad Name', node: 'node1' } }),
      ).toMatchObject({ id: 4, error: { code: 'bad-request' } });
      expect(await call(ws, { id: 5, method: 'world.start', params: { nodes: 1, extra: true } })).toMatchObject({
        id: 5,
        error: { code: 'bad-request' },
      });
      expect(
        await call(ws, {
          id: 6,
          method: 'terminal.open',
          params: { target: { kind: 'node', node: 'node1' }, cols: 80, rows: 24 },
        }),
      ).toEqual({ id: 6, error: { code: 'failed', message: 'no world is running: start one first' } });
      expect(await call(ws, { id: 7, extra: 1 })).toMatchObject({ id: 7, error: { code: 'bad-request' } });
      // nothing changed
      expect(await call(ws, { id: 8, method: 'world.status', params: {} })).toEqual({
        id: 8,
        result: { state: 'stopped', nodes: [] },
      });
    } finally {
      ws.close();
    }
  });
});

describe('Electron host wiring (without the Electron binary)', () => {
  it('hardens the window', () => {
    const w = windowOptions('/app/out/preload/preload.cjs').webPreferences;
    expect(w).toMatchObject({
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
      webviewTag: false,
      allowRunningInsecureContent: false,
    });
  });
  it('lets only the app top frame call the API', () => {
    const app = 'file:///opt/podnet/out/renderer/index.html';
    expect(isTrustedSender({ url: app, parent: null }, app)).toBe(true);
    expect(isTrustedSender({ url: app, parent: {} }, app)).toBe(false);
    expect(isTrustedSender({ url: 'file:///tmp/evil.html', parent: null }, app)).toBe(false);
    expect(isTrustedSender({ url: 'https://evil.example/', parent: null }, 'http://localhost:5173/')).toBe(false);
    expect(isTrustedSender({ url: 'http://localhost:5173/x', parent: null }, 'http://localhost:5173/')).toBe(true);
    expect(isTrustedSender(null, app)).toBe(false);
  });
  it('never navigates away, and opens only plain http(s) links outside', () => {
    const app = 'file:///opt/podnet/out/renderer/index.html';
    expect(navigationAllowed('https://evil.example/', app)).toBe(false);
    expect(navigationAllowed(app, app)).toBe(true);
    expect(externalUrlAllowed('https://kubernetes.io/docs/')).toBe(true);
    expect(externalUrlAllowed('file:///etc/passwd')).toBe(false);
    expect(externalUrlAllowed('javascript:alert(1)')).toBe(false);
    expect(externalUrlAllowed('https://user:pw@example.com/')).toBe(false);
  });
});
