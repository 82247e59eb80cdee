// Profiling aid for the start path: one timeline of "Start world" → node1 prompt, the engine's steps and
// the page's WebSocket messages, clicks and frames on one clock (ms from the click); with DIR, each
// round's Chromium trace (page-trace-N.json) and the engine's CPU profile (engine-N.cpuprofile) go there.
// Usage: npm run -s build && node out/bench/start-timeline.js [DIR] [ROUNDS] [reload]
// reload: the page is loaded again before each round after the first (a cold page, a warm engine).
import { Session } from 'node:inspector/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createEngine } from '../src-main/engine/engine.js';
import { engineTerminals, TerminalService } from '../src-main/terminal/terminal-service.js';
import { PtyReserve } from '../src-main/terminal/pty-reserve.js';
import { startWebHost } from '../src-main/web/server.js';
import { RENDERER } from '../test/e2e/harness.js';
import { launchBareChromium } from './bare-chromium.js';
import { startToPrompt, bareDriver } from './terminal-flood.js';

const now = () => performance.timeOrigin + performance.now();
const log: [number, string][] = [];
const hr0 = { now: now(), hr: Number(process.hrtime.bigint() / 1000n) };
const mark = (what: string) => log.push([now(), `engine: ${what}`]);

const P = TerminalService.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const m of ['spawnShell', 'open', 'prepare']) {
  const orig = P[m]!;
  P[m] = function (this: unknown, ...a: unknown[]) {
    mark(`${m} in`);
    const r = orig.apply(this, a);
    mark(`${m} out`);
    return r;
  };
}

const R = PtyReserve.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
const take = R.take!;
R.take = function (this: unknown, ...a: unknown[]) {
  const r = take.apply(this, a);
  mark(`the waiting pty-exec ${r ? 'taken' : 'not there: a fork'}`);
  return r;
};

const engine = createEngine(engineTerminals());
const api = engine.api as unknown as Record<string, (p: unknown) => Promise<unknown>>;
for (const m of ['world.start', 'terminal.open']) {
  const orig = api[m]!;
  api[m] = async (p) => {
    mark(`${m} received`);
    const r = await orig(p);
    mark(`${m} answered`);
    return r;
  };
}
const seen = new Set<string>();
engine.events.on('event', (e, p) => {
  if (e === 'world.changed') mark(`world.changed ${(p as { state: string }).state}`);
  if (e === 'world.progress') mark(`progress ${(p as { step: string }).step}`);
  if (e === 'terminal.data' && !seen.has((p as { id: string }).id)) {
    seen.add((p as { id: string }).id);
    mark(`first terminal.data ${(p as { id: string }).id}`);
  }
});
const host = await startWebHost({ api: engine.api, events: engine.events, rendererDir: RENDERER });
const b = await launchBareChromium(host.url);
const traceDir = process.argv[2];
const rounds = Number(process.argv[3] ?? 3);
const reload = process.argv[4] === 'reload';
try {
  await b.send('Page.enable');
  await b.send('Page.addScriptToEvaluateOnNewDocument', {
    source: `(() => {
      window.__log = [];
      const now = () => performance.timeOrigin + performance.now();
      const W = window.WebSocket;
      window.WebSocket = class extends W {
        constructor(...a) { super(...a);
          this.addEventListener('message', (m) => {
            if (typeof m.data === 'string') { const s = m.data.slice(0, 90); if (!/progress/.test(s)) window.__log.push([now(), 'page: ws in ' + s]); }
            else window.__log.push([now(), 'page: ws in binary']);
          });
        }
        send(d) { if (typeof d === 'string' && !/terminal\\.ack/.test(d)) window.__log.push([now(), 'page: ws out ' + d.slice(0, 90)]); return super.send(d); }
      };
      document.addEventListener('click', (e) => window.__log.push([now(), 'page: click ' + (e.target.closest('[data-testid]')?.getAttribute('data-testid') ?? '?')]), true);
      const raf = () => { window.__frames.push(now()); requestAnimationFrame(raf); };
      window.__frames = []; requestAnimationFrame(raf);
    })()`,
  });
  await b.navigate(host.url);
  for (let r = 0; r < rounds; r++) {
    if (r > 0) {
      await engine.api['world.stop']({});
      await b.evaluate(async () => {
        for (const x of document.querySelectorAll<HTMLElement>('.tabs [data-testid^="tab-close-"]')) x.click();
        while (!/stopped/i.test(document.querySelector('[data-testid="world-state"]')?.textContent ?? ''))
          await new Promise((r) => setTimeout(r, 10));
      }, null);
      await new Promise((r) => setTimeout(r, 500));
      if (reload) await b.navigate(host.url);
    }
    log.length = 0;
    seen.clear();
    await b.evaluate(() => {
      (window as unknown as { __log: unknown[] }).__log = [];
      (window as unknown as { __frames: unknown[] }).__frames = [];
    }, null);
    const tracing = !!traceDir;
    const events: unknown[] = [];
    const inspector = tracing ? new Session() : undefined;
    const collect = (p: { value: unknown[] }) => void events.push(...p.value);
    if (tracing) {
      b.events.on('Tracing.dataCollected', collect);
      await b.send('Tracing.start', {
        transferMode: 'ReportEvents',
        traceConfig: {
          includedCategories: [
            'devtools.timeline',
            'disabled-by-default-devtools.timeline',
            'disabled-by-default-devtools.timeline.frame',
            'v8.execute',
            'blink.user_timing',
            'disabled-by-default-v8.cpu_profiler',
            'toplevel',
          ],
        },
      });
      inspector!.connect();
      await inspector!.post('Profiler.enable');
      await inspector!.post('Profiler.setSamplingInterval', { interval: 200 });
      await inspector!.post('Profiler.start');
    }
    const res = await startToPrompt(bareDriver(b));
    const page = await b.evaluate(() => {
      const w = window as unknown as { __log: [number, string][]; __frames: number[] };
      return { log: w.__log, frames: w.__frames };
    }, null);
    if (tracing) {
      const done = new Promise((r) => b.events.once('Tracing.tracingComplete', r));
      await b.send('Tracing.end');
      await done;
      b.events.off('Tracing.dataCollected', collect);
      const prof = await inspector!.post('Profiler.stop');
      mkdirSync(traceDir, { recursive: true });
      writeFileSync(`${traceDir}/page-trace-${r}.json`, JSON.stringify({ traceEvents: events }));
      writeFileSync(`${traceDir}/engine-${r}.cpuprofile`, JSON.stringify(prof.profile));
      writeFileSync(`${traceDir}/clock-${r}.json`, JSON.stringify({ ...hr0, log }));
    }
    const all = [...log, ...page.log].sort((a, b) => a[0] - b[0]);
    const t0 = all.find(([, s]) => s.includes('click world-start'))?.[0] ?? all[0]![0];
    console.log(`\nround ${r} (load ${loadavg()[0]!.toFixed(2)}): ${JSON.stringify(res)}`);
    for (const [t, s] of all) console.log(`${(t - t0).toFixed(1).padStart(8)}  ${s}`);
    const fr = page.frames.filter((t) => t >= t0).map((t) => (t - t0).toFixed(0));
    console.log(`frames: ${fr.join(' ')}`);
  }
} finally {
  await b.close();
  await host.close();
  await engine.dispose();
}
process.exit(0);
