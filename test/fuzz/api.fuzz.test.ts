// Fuzzing the API contract against a running world: generated bad requests through dispatch() (what
// Electron's IPC host calls) and over the real WebSocket host. Every one gets a typed error, nothing
// hangs or crashes, and the world keeps the same pods, links and terminals.
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { isMethod, requests, type Method } from '../../src-main/api/contract.js';
import { dispatch } from '../../src-main/api/dispatch.js';
import { createEngine, type Engine } from '../../src-main/engine/engine.js';
import { TerminalService } from '../../src-main/terminal/terminal-service.js';
import { PROTOCOL, startWebHost, tokenProtocol, type WebHost } from '../../src-main/web/server.js';
import { errorClass, params, Tally, within } from './fuzz-kit.js';
import { wsText } from '../helpers.js';

const METHODS = Object.keys(requests) as Method[];
const CODES = new Set(['bad-request', 'unknown-method', 'failed']);
let engine: Engine;
let host: WebHost;

/** What must not change: the pods, the terminals, the world's nodes, and every node's links and netns. */
async function worldState(): Promise<unknown> {
  const w = engine.session.runningWorld!;
  const links: Record<string, string> = {};
  for (const n of w.nodes.keys()) {
    links[n] = (
      await w.run({ kind: 'node', node: n }, ['sh', '-c', 'ip -o link show | cut -d" " -f2,3; ls /run/netns'])
    ).trim();
  }
  const status = await engine.api['world.status']({});
  return {
    state: status.state,
    nodes: status.nodes.map((n) => n.name),
    pods: (await engine.api['pod.list']({})).map((p) => `${p.name} ${p.node} ${p.ip}`),
    terminals: (await engine.api['terminal.list']({})).map((t) => `${t.id} ${t.exited}`),
    links,
  };
}

// values that break things: wrong types, edges of ranges, path tricks, huge and odd strings
const nasty = fc.oneof(
  fc.anything(),
  fc.constantFrom(
    '',
    ' ',
    '..',
    '../../etc/passwd',
    'node1/../node2',
    'a'.repeat(70),
    'A',
    'node99',
    't0',
    't-1',
    '\u0000',
    '💥',
    '__proto__',
    'constructor',
    '%n%s',
  ),
  fc.constantFrom(-1, 0, 1, 2, 7, 8, 9, 1000, 1001, 2 ** 31, 2 ** 53, -0, 0.5, Number.NaN, Number.POSITIVE_INFINITY),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const KEYS = [
  'name',
  'node',
  'nodes',
  'id',
  'data',
  'cols',
  'rows',
  'bytes',
  'target',
  'kind',
  'pod',
  'op',
  'step',
  'stepThrough',
  'fault',
  'plugin',
  'on',
];
const nearMiss = fc.oneof(
  fc.dictionary(fc.constantFrom(...KEYS), nasty, { maxKeys: 5 }),
  fc.record({
    target: fc.record(
      { kind: fc.constantFrom('sandbox', 'node', 'pod', 'host', ''), node: nasty, pod: nasty },
      { requiredKeys: ['kind'] },
    ),
    cols: nasty,
    rows: nasty,
  }),
  fc.record({
    name: nasty,
    node: nasty,
    stepThrough: nasty,
    fault: fc.oneof(
      nasty,
      fc.record({ kind: fc.constantFrom('plugin-fails', 'remove-netns', 'x'), plugin: nasty, on: nasty }),
    ),
  }),
);
/** Params that the method's schema refuses. */
const badParams = (m: Method) =>
  fc.oneof(fc.anything(), nearMiss).filter((p) => !requests[m].params.safeParse(p ?? {}).success);

/** Whole messages that are not a valid request: garbage, unknown methods, known methods with bad params. */
const badMessage = fc
  .oneof(
    fc.anything(),
    fc.record({
      id: fc.oneof(fc.nat(), nasty),
      method: fc.oneof(fc.string({ maxLength: 70 }), nasty),
      params: fc.anything(),
    }),
    fc.constantFrom(...METHODS).chain((m) => fc.record({ id: fc.nat(), method: fc.constant(m), params: badParams(m) })),
    fc
      .constantFrom(...METHODS)
      .chain((m) => fc.record({ id: fc.nat(), method: fc.constant(m), params: fc.constant({}), extra: nasty })),
  )
  .filter((msg) => !isValidRequest(msg));

/** Whether a message would run (it must never: some requests stop or reset the world). */
function isValidRequest(msg: unknown): boolean {
  const o = msg as { id?: unknown; method?: unknown; params?: unknown };
  const shaped =
    typeof o === 'object' &&
    o !== null &&
    Number.isInteger(o.id) &&
    (o.id as number) >= 0 &&
    Object.keys(o).every((k) => ['id', 'method', 'params'].includes(k));
  return (
    shaped &&
    typeof o.method === 'string' &&
    isMethod(o.method) &&
    requests[o.method].params.safeParse(o.params ?? {}).success
  );
}

/**
 * Valid by the schema but about things that do not exist (pods, nodes, terminals, operations): the
 * engine must say so, or do nothing. Methods that change the world on purpose are left out.
 */
const ghost = fc
  .oneof(
    fc.record({
      method: fc.constant('pod.delete'),
      params: fc.record({ name: fc.stringMatching(/^ghost-[a-z0-9]{1,8}$/) }),
    }),
    fc.record({
      method: fc.constant('pod.create'),
      params: fc.record({
        name: fc.stringMatching(/^ghost-[a-z0-9]{1,8}$/),
        node: fc.stringMatching(/^node[3-9]$|^x[a-z]{0,8}$/),
      }),
    }),
    fc.record({
      method: fc.constantFrom('terminal.close', 'terminal.resize', 'terminal.input', 'terminal.ack'),
      params: fc.record({
        id: fc.integer({ min: 1000, max: 999_999_999 }).map((n) => `t${n}`),
        cols: fc.integer({ min: 2, max: 1000 }),
        rows: fc.integer({ min: 1, max: 500 }),
        data: fc.string({ maxLength: 20 }),
        bytes: fc.nat(1 << 24),
      }),
    }),
    fc.record({
      method: fc.constantFrom('timeline.steps', 'timeline.next', 'timeline.continue', 'timeline.detail'),
      params: fc.record({
        op: fc.integer({ min: 100_000, max: 1_000_000_000 }),
        step: fc.integer({ min: 1, max: 1_000_000_000 }),
      }),
    }),
    fc.record({
      method: fc.constant('timeline.plugins'),
      params: fc.record({ node: fc.stringMatching(/^node[3-9]$|^x[a-z]{0,8}$/) }),
    }),
    fc.record({
      method: fc.constant('terminal.open'),
      params: fc.record({
        target: fc.record({ kind: fc.constant('pod'), pod: fc.stringMatching(/^ghost-[a-z0-9]{1,8}$/) }),
        cols: fc.integer({ min: 2, max: 1000 }),
        rows: fc.integer({ min: 1, max: 500 }),
      }),
    }),
  )
  .map(({ method, params: p }) => {
    // keep only the keys the method takes (the records above share fields)
    const shape = (requests[method as Method].params as unknown as { shape: Record<string, unknown> }).shape;
    return { method: method, params: Object.fromEntries(Object.entries(p).filter(([k]) => k in shape)) };
  });

const tallies = { dispatch: new Tally(), ghost: new Tally(), ws: new Tally() };
let before: unknown;

let renderer = '';

beforeAll(async () => {
  renderer = mkdtempSync(join(tmpdir(), 'podnet-fuzz-renderer-'));
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>Podnet Lab</title>');
  engine = createEngine({ terminals: (w, r) => new TerminalService(w, r) });
  host = await startWebHost({ api: engine.api, events: engine.events, rendererDir: renderer });
  await engine.api['world.start']({ nodes: 2 });
  await engine.api['pod.create']({ name: 'keep', node: 'node1' });
  await engine.api['terminal.open']({ target: { kind: 'node', node: 'node1' }, cols: 80, rows: 24 });
  before = await worldState();
}, 120_000);

afterAll(async () => {
  for (const [k, t] of Object.entries(tallies)) if (t.inputs) console.log(t.report(`fuzz ${k}`));
  await host?.close();
  await engine?.dispose();
  if (renderer) rmSync(renderer, { recursive: true, force: true });
});

describe('fuzzing the API contract', () => {
  it('dispatch(): a bad message gets a typed error, promptly, and the world is unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(badMessage, async (msg) => {
        const r = (await within(dispatch(engine.api, msg), 10_000, 'dispatch')) as {
          id: number;
          error?: { code: string; message: string };
          result?: unknown;
        };
        expect(r.result).toBeUndefined();
        expect(CODES.has(r.error!.code)).toBe(true);
        expect(r.error!.message.length).toBeGreaterThan(0);
        tallies.dispatch.add(errorClass(r.error!.code, r.error!.message));
      }),
      params(400),
    );
    expect(await worldState()).toEqual(before);
  }, 120_000);

  it('requests about pods, nodes, terminals and operations that do not exist: an error or nothing, and the world is unchanged', async () => {
    await fc.assert(
      fc.asyncProperty(ghost, async ({ method, params: p }) => {
        const r = (await within(dispatch(engine.api, { id: 1, method, params: p }), 20_000, method)) as {
          error?: { code: string; message: string };
          result?: unknown;
        };
        if (r.error) {
          expect(CODES.has(r.error.code)).toBe(true);
          tallies.ghost.add(
            errorClass(
              `${method} ${r.error.code}`,
              r.error.message,
              Object.values(p as object).flatMap((v) => (typeof v === 'object' && v ? Object.values(v) : [v])),
            ),
          );
        } else {
          tallies.ghost.add(`${method}: no error (nothing to do)`);
        }
      }),
      params(120),
    );
    expect(await worldState()).toEqual(before);
  }, 180_000);

  it('over the real WebSocket: garbage frames and bad messages get one typed error each, and the world is unchanged', async () => {
    const ws = await new Promise<WebSocket>((resolve, reject) => {
      const s = new WebSocket(`ws://127.0.0.1:${host.port}/rpc`, [PROTOCOL, tokenProtocol(host.token)], {
        headers: { Origin: `http://127.0.0.1:${host.port}` },
      });
      s.once('open', () => resolve(s));
      s.once('error', reject);
    });
    const replies: Record<string, unknown>[] = [];
    let wake: () => void = () => {};
    ws.on('message', (d, binary) => {
      if (binary) return; // terminal output
      const m = JSON.parse(wsText(d)) as Record<string, unknown>;
      if ('event' in m) return;
      replies.push(m);
      wake();
    });
    const frame = fc.oneof(
      // JSON drops undefined and turns NaN into null: what arrives must still be invalid
      badMessage
        .map((m) => JSON.stringify(m))
        .filter((s): s is string => typeof s === 'string' && !isValidRequest(JSON.parse(s))),
      fc.string({ maxLength: 200 }),
      fc.uint8Array({ minLength: 1, maxLength: 64 }).map((b) => Buffer.from(b)),
      fc.constantFrom(
        '{',
        '[]',
        'null',
        '{"id":1}',
        '{"id":1,"method":"pod.create"}',
        '{"id":-5,"method":"world.stop","params":{}}',
        '{"id":1,"method":"world.stop","params":{},"x":1}',
      ),
    );
    await fc.assert(
      fc.asyncProperty(frame, async (f) => {
        replies.length = 0;
        const got = new Promise<void>((r) => (wake = r));
        ws.send(f);
        await within(got, 10_000, 'a reply over the WebSocket');
        await new Promise((r) => setTimeout(r, 0));
        expect(replies).toHaveLength(1);
        const e = replies[0]!.error as { code: string; message: string };
        expect(CODES.has(e.code)).toBe(true);
        tallies.ws.add(errorClass(e.code, e.message));
      }),
      params(250),
    );
    ws.close();
    expect(await worldState()).toEqual(before);
  }, 120_000);
});
