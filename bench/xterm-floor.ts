// The floor under the terminal benchmark, measured in the same Chromium: xterm.js alone on a blank page,
// fed the same 50 MB (1) from memory and (2) over a local WebSocket with the app's flow control
// (ack after parse). What the app takes above (2) is the app's own cost; (2) above (1) is the transport's.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { FlowControl } from '../src-main/terminal/flow-control.js';
import type { BareChromium } from './bare-chromium.js';
import { wsText } from '../test/helpers.js';

const LINE = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n';
const PIECE = Buffer.from(LINE.repeat(Math.floor((64 * 1024) / LINE.length)));

export interface XtermFloor {
  memoryMs: number;
  websocketMs: number;
  /** Animation frames over 50 ms while xterm alone took the output over the WebSocket, longest first. */
  longFrames: number[];
}

/**
 * `origin`: a local origin for the blank page (Chromium lets only a local page open a socket to 127.0.0.1).
 * `between`: called after the run from memory, before the one over the WebSocket (to split their CPU).
 */
export async function xtermFloor(
  page: BareChromium,
  origin: string,
  bytes: number,
  between?: () => void,
): Promise<XtermFloor> {
  const require = createRequire(import.meta.url);
  const lib = readFileSync(require.resolve('@xterm/xterm/lib/xterm.js'), 'utf8');
  const css = readFileSync(require.resolve('@xterm/xterm/css/xterm.css'), 'utf8');
  // the engine's side of the transport: 64 KiB binary frames, paused at the high watermark until acked
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.on('listening', r));
  wss.on('connection', (ws) => {
    let sent = 0;
    let unacked = 0;
    const pump = () => {
      while (sent < bytes && unacked < (FlowControl.HighWatermarkBytes as number)) {
        ws.send(PIECE);
        sent += PIECE.length;
        unacked += PIECE.length;
      }
    };
    ws.on('message', (m) => {
      const text = wsText(m);
      if (text === 'go') pump();
      else if ((unacked -= Number(text)) < (FlowControl.LowWatermarkBytes as number)) pump();
    });
  });
  try {
    // any document of a local origin will do: the host answers this path with a short refusal
    await page.navigate(`${origin}/blank-page-for-the-benchmark`);
    await page.evaluate((style) => {
      document.body.style.cssText = 'margin:0;background:#000';
      document.body.innerHTML = '<div id="t" style="width:1000px;height:700px"></div>';
      const el = document.createElement('style');
      el.textContent = style;
      document.head.appendChild(el);
    }, css);
    await page.send('Runtime.evaluate', { expression: `${lib}\n;0` });
    const run = (mode: 'memory' | 'websocket') =>
      page.evaluate(
        async ({ mode, bytes, port, line, ackBytes }) => {
          const T = (window as unknown as { Terminal: typeof import('@xterm/xterm').Terminal }).Terminal;
          const host = document.getElementById('t')!;
          host.replaceChildren();
          const term = new T({
            cols: 120,
            rows: 40,
            scrollback: 5000,
            fontFamily: '"DejaVu Sans Mono", monospace',
            fontSize: 13,
            lineHeight: 1.1,
          });
          term.open(host);
          const piece = new TextEncoder().encode(line.repeat(Math.floor((64 * 1024) / line.length)));
          const longFrames: number[] = [];
          const loaf = new PerformanceObserver((l) => l.getEntries().forEach((e) => longFrames.push(e.duration)));
          loaf.observe({ type: 'long-animation-frame', buffered: false });
          const t0 = performance.now();
          if (mode === 'memory') {
            await new Promise<void>((done) => {
              let fed = 0;
              const next = () => (fed >= bytes ? done() : ((fed += piece.length), term.write(piece, next)));
              next();
            });
          } else {
            const ws = new WebSocket(`ws://127.0.0.1:${port}`);
            ws.binaryType = 'arraybuffer';
            await new Promise(
              (r, j) => ((ws.onopen = r), (ws.onerror = () => j(new Error(`WebSocket to port ${port} failed`)))),
            );
            await new Promise<void>((done, fail) => {
              ws.onclose = (e) => fail(new Error(`WebSocket closed early: ${e.code} ${e.reason}`));
              let parsed = 0;
              let pending = 0;
              ws.onmessage = (e) => {
                const b = new Uint8Array(e.data as ArrayBuffer);
                term.write(b, () => {
                  parsed += b.length;
                  pending += b.length;
                  if (pending >= ackBytes) {
                    ws.send(String(pending));
                    pending = 0;
                  }
                  if (parsed >= bytes) {
                    ws.onclose = null;
                    done();
                  }
                });
              };
              ws.send('go');
            });
            ws.close();
          }
          const ms = performance.now() - t0;
          loaf.disconnect();
          term.dispose();
          return { ms, longFrames: longFrames.map(Math.round).sort((a, b) => b - a) };
        },
        {
          mode,
          bytes,
          port: (wss.address() as AddressInfo).port,
          line: LINE,
          ackBytes: Number(FlowControl.AckBatchBytes),
        },
      );
    const memory = await run('memory');
    between?.();
    const websocket = await run('websocket');
    return { memoryMs: memory.ms, websocketMs: websocket.ms, longFrames: websocket.longFrames };
  } finally {
    await new Promise((r) => wss.close(r));
  }
}
