// A terminal's output over the browser host's WebSocket, read as the renderer reads it (its transport's
// decodeFrame, then the contract's client, src-main/api/client.ts) from a real shell in a real world: the bytes
// arrive in order, none lost, in fragmented binary messages (api/frames.ts) that split multi-byte
// characters where they fall; and a frame that does not fit the contract is dropped, never acted on.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createClient, type Transport } from '../src-main/api/client.js';
import { decodeFrame, encodeTerminalData, terminalDataHead } from '../src-main/api/frames.js';
import { createEngine, type Engine } from '../src-main/engine/engine.js';
import { AckCounter, DataBuffer } from '../src-main/terminal/flow-control.js';
import { TerminalService } from '../src-main/terminal/terminal-service.js';
import { PROTOCOL, startWebHost, tokenProtocol, type WebHost } from '../src-main/web/server.js';
import { wsText } from './helpers.js';

let host: WebHost;
let engine: Engine;

let renderer = '';

beforeAll(async () => {
  renderer = mkdtempSync(join(tmpdir(), 'podnet-renderer-'));
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>Podnet Lab</title>');
  engine = createEngine({ terminals: (w, r) => new TerminalService(w, r) });
  host = await startWebHost({ api: engine.api, events: engine.events, rendererDir: renderer });
});
afterAll(async () => {
  await host?.close();
  await engine?.dispose();
  if (renderer) rmSync(renderer, { recursive: true, force: true });
});

/** Whether a piece of UTF-8 ends inside a character: its last lead byte wants more bytes than follow it. */
function endsInsideCharacter(f: Uint8Array): boolean {
  for (let back = 1; back <= Math.min(4, f.length); back++) {
    const b = f[f.length - back]!;
    if ((b & 0xc0) === 0x80) continue;
    const wants = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return wants > back;
  }
  return false;
}

/** The page's side of the socket as src-renderer/api/ws-transport.ts has it: binary frames through decodeFrame. */
async function pageTransport(): Promise<Transport & { close(): void }> {
  const ws = new WebSocket(`ws://127.0.0.1:${host.port}/rpc`, [PROTOCOL, tokenProtocol(host.token)], {
    origin: `http://127.0.0.1:${host.port}`,
  });
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  let seq = 1;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  const listeners = new Set<(event: string, payload: unknown) => void>();
  ws.on('message', (m: Buffer, binary: boolean) => {
    if (binary) {
      const f = decodeFrame(new Uint8Array(m.buffer, m.byteOffset, m.length));
      if (f) for (const l of listeners) l(f.event, f.payload);
      return;
    }
    const msg = JSON.parse(wsText(m)) as { id?: number; result?: unknown; error?: { message: string } };
    const w = msg.id !== undefined ? waiting.get(msg.id) : undefined;
    if (!w) return;
    waiting.delete(msg.id!);
    if (msg.error) w.reject(new Error(msg.error.message));
    else w.resolve(msg.result);
  });
  return {
    request: (method, params) =>
      new Promise((resolve, reject) => {
        const id = seq++;
        waiting.set(id, { resolve, reject });
        ws.send(JSON.stringify({ id, method, params }));
      }),
    onEvent: (l) => (listeners.add(l), () => listeners.delete(l)),
    close: () => ws.close(),
  };
}

describe("a terminal's output through the browser host", () => {
  it('arrives whole and in order, in binary messages that split UTF-8 characters where they fall', async () => {
    await engine.api['world.start']({ nodes: 1 });
    const transport = await pageTransport();
    const client = createClient(transport);
    const raw: Uint8Array[] = [];
    const got: Uint8Array[] = [];
    const acks = new AckCounter();
    let text = '';
    // for finding the prompt and the end marker only: the flood ends inside a character on purpose
    const decoder = new TextDecoder();
    // from before the open: a shell started ahead may speak before terminal.open's answer arrives
    client.on('terminal.data', ({ id, data }) => {
      got.push(data);
      text += decoder.decode(data, { stream: true });
      // acked as the view does, so a flood keeps flowing
      const n = acks.parsed(data.length);
      if (n) void client.call('terminal.ack', { id, bytes: n });
    });
    // what arrives on the socket, frame by frame, beside what the client makes of it
    transport.onEvent(
      (event, payload) => event === 'terminal.data' && raw.push((payload as { data: Uint8Array }).data),
    );
    const t = await client.call('terminal.open', { target: { kind: 'node', node: 'node1' }, cols: 200, rows: 24 });
    const until = async (re: RegExp) => {
      for (let i = 0; !re.test(text); i++) {
        if (i > 600) throw new Error(`never saw ${re}: ${JSON.stringify(text.slice(-200))}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    try {
      await until(/# $/);
      const from = got.length;
      // 2-, 3- and 4-byte characters, 6 MB of them: far more than one frame, ending mid-character. With no
      // newline, the pty's output processing (ONLCR) cuts no write at a line's end: pieces end where dd's
      // 4093-byte blocks and the tty's write chunks fall, mid-character, however far the reader lags.
      // 17 bytes: a reader that lags reads 4095 bytes at a time (the tty's buffer), and a unit that divides
      // 4095 (13 did) could put every frame's end at the same place in it, between two characters
      const unit = new TextEncoder().encode('aé✓€😀😀');
      const bytes = 6_000_001;
      await client.call('terminal.input', {
        id: t.id,
        data: `yes 'aé✓€😀😀' | tr -d '\\n' | head -c ${bytes} | dd obs=4093 status=none; echo; echo end-$((6*7))\r`,
      });
      await until(/end-42\r\n/);

      // what head printed, after the echo of the command line: every byte, in order
      const out = concat(got.slice(from));
      const printed: number[] = [];
      for (let i = 0; i < bytes; i++) printed.push(unit[i % unit.length]!);
      // after the echo of the command line (and bash's bracketed-paste switch)
      const start = Buffer.from(out).indexOf(Buffer.from(unit.subarray(0, 5)), out.indexOf(0x0a) + 1);
      const tail = [...new TextEncoder().encode('\r\nend-42\r\n')];
      expect(out.length).toBeGreaterThanOrEqual(start + printed.length + tail.length);
      // compared in one go (a per-byte expect over 7 MB would take minutes)
      const body = out.subarray(start, start + printed.length);
      expect(Buffer.compare(Buffer.from(body), Buffer.from(printed))).toBe(0);
      expect([...out.subarray(start + printed.length, start + printed.length + tail.length)]).toEqual(tail);

      // many frames, each no larger than the engine merges (plus one read), and some split a character
      const frames = got.slice(from);
      expect(frames.length).toBeGreaterThan(10);
      expect(Math.max(...frames.map((f) => f.length))).toBeLessThanOrEqual(DataBuffer.FLUSH_BYTES + 64 * 1024);
      const splits = frames.filter(endsInsideCharacter).length;
      expect(splits).toBeGreaterThan(0);
      // the client passed on exactly what came off the socket
      expect(raw.length).toBe(got.length);
    } finally {
      await client.call('terminal.close', { id: t.id });
      await engine.api['world.stop']({});
      transport.close();
    }
  }, 120_000);
});

describe('terminal data frames', () => {
  it('a head and the output, sent as two fragments, are the whole frame', () => {
    const data = new TextEncoder().encode('héllo ✓');
    const head = terminalDataHead('t7');
    expect([...head, ...data]).toEqual([...encodeTerminalData('t7', data)]);
    expect(decodeFrame(encodeTerminalData('t7', data))).toEqual({
      event: 'terminal.data',
      payload: { id: 't7', data },
    });
  });

  it('one that does not fit the contract is dropped by the client, and the next good one still arrives', () => {
    let emit: (event: string, payload: unknown) => void = () => {};
    const fake: Transport = {
      request: () => Promise.reject(new Error('not used')),
      onEvent: (l) => ((emit = l), () => {}),
    };
    const client = createClient(fake);
    const seen: string[] = [];
    client.on('terminal.data', ({ id }) => seen.push(id));
    const bytes = new Uint8Array([0x41]);
    // printable ASCII ids the frame decoder accepts, but the contract's terminal ids do not
    for (const id of ['x', 't', 't1;rm', '../t1', 't12345678901'])
      emit('terminal.data', decodeFrame(encodeTerminalData(id, bytes))!.payload);
    emit('terminal.data', { id: 't1', data: 'not bytes' });
    emit('terminal.data', { id: 't1' });
    emit('terminal.data', null);
    // a malformed binary frame never becomes an event at all
    for (const f of [[], [1], [1, 0, 0x41], [1, 9, 0x74], [2, 2, 0x74, 0x31, 0x41], [1, 2, 0x74, 0x20, 0x41]])
      expect(decodeFrame(new Uint8Array(f))).toBeUndefined();
    expect(seen).toEqual([]);
    emit('terminal.data', decodeFrame(encodeTerminalData('t1', bytes))!.payload);
    expect(seen).toEqual(['t1']);
  });
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
