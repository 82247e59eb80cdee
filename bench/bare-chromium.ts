// Debian's Chromium driven by a bare DevTools connection that enables no domain but what it calls.
// Why not playwright here: playwright enables the Network domain on every page, so Chromium copies each
// WebSocket frame (base64, in JSON) to the driver — 50 MB of terminal output becomes ~67 MB of DevTools
// traffic through the browser process and into the same Node process as the engine. Users have no
// driver attached; a throughput figure must not pay for one.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import WebSocket from 'ws';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/e2e/harness.js';
import { wsText } from '../test/helpers.js';

export interface BareChromium {
  /** Evaluates `fn(arg)` in the page and returns its (JSON) value; promises are awaited. */
  evaluate<A, T>(fn: (arg: A) => T | Promise<T>, arg: A): Promise<T>;
  send(method: string, params?: Record<string, unknown>): Promise<Record<string, unknown>>;
  /** Loads `url` and waits until its document has loaded. */
  navigate(url: string): Promise<void>;
  /** Types text into the focused element as one IME commit, then presses Enter. */
  typeLine(text: string): Promise<void>;
  /** DevTools events (method → params), for what a measurement enables itself (Tracing, Profiler). */
  readonly events: EventEmitter;
  readonly pid: number;
  close(): Promise<void>;
}

export async function launchBareChromium(url: string, viewport = { width: 1440, height: 900 }): Promise<BareChromium> {
  const profile = mkdtempSync(join(tmpdir(), 'podnet-bare-chromium-'));
  const args = ['--headless', ...CHROMIUM_ARGS];
  const proc: ChildProcess = spawn(
    CHROMIUM,
    [
      ...args,
      '--remote-debugging-port=0',
      `--user-data-dir=${profile}`,
      `--window-size=${viewport.width},${viewport.height}`,
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // a benchmark that ends before close() (an error, Ctrl+C, a timeout's SIGTERM) must not leave its Chromium
  // running: it would load every later run on this machine
  const orphaned = () => void (proc.exitCode === null && proc.signalCode === null && proc.kill('SIGTERM'));
  const onSignal = (signal: NodeJS.Signals) => {
    orphaned();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('exit', orphaned);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const browserWs = await new Promise<string>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(
      () => reject(new Error(`Chromium did not open DevTools in 30 s: ${err.slice(-500)}`)),
      30_000,
    );
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /DevTools listening on (ws:\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code) =>
      reject(new Error(`Chromium exited (${code}) before DevTools opened: ${err.slice(-500)}`)),
    );
  });
  const base = browserWs.replace(/^ws/, 'http').replace(/\/devtools\/.*/, '');
  const targets = (await (await fetch(`${base}/json/list`)).json()) as { type: string; webSocketDebuggerUrl: string }[];
  const page = targets.find((t) => t.type === 'page');
  if (!page) throw new Error('Chromium has no page target');
  const ws = new WebSocket(page.webSocketDebuggerUrl, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 });
  await new Promise((r, j) => (ws.once('open', r), ws.once('error', j)));
  let seq = 0;
  const events = new EventEmitter();
  const waiting = new Map<number, { resolve(v: Record<string, unknown>): void; reject(e: Error): void }>();
  ws.on('message', (m) => {
    const msg = JSON.parse(wsText(m)) as {
      id?: number;
      method?: string;
      params?: unknown;
      result?: Record<string, unknown>;
      error?: { message: string };
    };
    if (msg.method) events.emit(msg.method, msg.params);
    const w = msg.id !== undefined ? waiting.get(msg.id) : undefined;
    if (!w) return;
    waiting.delete(msg.id!);
    if (msg.error) w.reject(new Error(msg.error.message));
    else w.resolve(msg.result ?? {});
  });
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = ++seq;
      // a call that is never answered (a page gone mid-call) must fail, not hang the benchmark
      const timer = setTimeout(
        () => (waiting.delete(id), reject(new Error(`DevTools ${method} got no answer in 600 s`))),
        600_000,
      );
      waiting.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      ws.send(JSON.stringify({ id, method, params }));
    });
  const evaluate = async <A, T>(fn: (arg: A) => T | Promise<T>, arg: A): Promise<T> => {
    const r = (await send('Runtime.evaluate', {
      expression: `(${fn.toString()})(${JSON.stringify(arg)})`,
      awaitPromise: true,
      returnByValue: true,
    })) as {
      result: { value: T };
      exceptionDetails?: { exception?: { description?: string }; text: string };
    };
    if (r.exceptionDetails)
      throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value;
  };
  await send('Emulation.setDeviceMetricsOverride', {
    width: viewport.width,
    height: viewport.height,
    deviceScaleFactor: 1,
    mobile: false,
  });
  const navigate = async (to: string) => {
    await send('Page.navigate', { url: to });
    // Page.navigate answers once the navigation is committed: the document may still be loading
    const t0 = Date.now();
    while (
      !(await evaluate(
        (u) => location.href.startsWith(u.replace(/\?.*/, '')) && document.readyState === 'complete',
        to,
      ).catch(() => false))
    ) {
      if (Date.now() - t0 > 30_000) throw new Error(`${to} did not load in 30 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await navigate(url);
  return {
    evaluate,
    send,
    navigate,
    events,
    pid: proc.pid!,
    async typeLine(text: string) {
      await send('Input.insertText', { text });
      await send('Input.dispatchKeyEvent', {
        type: 'keyDown',
        key: 'Enter',
        code: 'Enter',
        windowsVirtualKeyCode: 13,
        text: '\r',
      });
      await send('Input.dispatchKeyEvent', { type: 'keyUp', key: 'Enter', code: 'Enter', windowsVirtualKeyCode: 13 });
    },
    async close() {
      process.off('exit', orphaned);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      ws.close();
      // its singleton socket is in a folder of its own in /tmp, which a Chromium ended by a signal leaves behind
      let singleton: string | undefined;
      try {
        singleton = dirname(readlinkSync(join(profile, 'SingletonSocket')));
      } catch {
        // none made (it ended early)
      }
      // our own Chromium, by its PID
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      // its helper processes may still be writing the profile for a moment after it ends
      for (let i = 0; ; i++) {
        try {
          rmSync(profile, { recursive: true, force: true });
          if (singleton && basename(singleton).startsWith('org.chromium.Chromium.'))
            rmSync(singleton, { recursive: true, force: true });
          break;
        } catch (e) {
          if (i >= 50) throw e;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    },
  };
}
