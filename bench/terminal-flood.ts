// The terminal benchmark's flood, on its own: 50 MB through a terminal of the app into xterm, and the floor
// (xterm alone over a local WebSocket, bench/xterm-floor.ts) in the same rounds, interleaved, so load
// falls on both alike. Used by bench/terminal-throughput.ts; run alone for quick A/B work:
//   node out/bench/terminal-flood.js [--rounds N] [--ab DIR] [--profile DIR]
// --ab DIR: another build's out/ folder (with node_modules reachable above it), flooded in the same rounds.
// --profile DIR: each round's page (CDP Profiler) and engine (node:inspector) CPU profiles are written
// there (page-N, engine-N .cpuprofile: open in Chromium's DevTools), with their top functions by self time printed.
// --trace DIR: each round's Chromium trace of this build (trace-N.json: open in DevTools' Performance panel), with
// the renderer main thread's self time by trace event printed.
import { readdirSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Engine } from '../src-main/engine/engine.js';
import type { WebHost } from '../src-main/web/server.js';
import { launchBareChromium, type BareChromium } from './bare-chromium.js';
import { xtermFloor } from './xterm-floor.js';
import { argOf as arg } from './args.js';

export const MB = 50;
export const BYTES = MB * 1024 * 1024;
export const FLOOD = `yes 0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ | head -c ${BYTES}`;

/** What the flood scenario needs of a driver: playwright's page (as the tests drive it) or a bare DevTools connection. */
export interface Driver {
  evaluate<A, T>(fn: (arg: A) => T | Promise<T>, arg: A): Promise<T>;
  typeLine(text: string): Promise<void>;
  moveMouse(x: number, y: number): Promise<void>;
}

/** The bare DevTools connection as a Driver. */
export function bareDriver(b: BareChromium): Driver {
  return {
    evaluate: (fn, arg) => b.evaluate(fn, arg),
    typeLine: (text) => b.typeLine(text),
    moveMouse: async (x, y) => void (await b.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x, y })),
  };
}

/** A /proc stat file: the name between the parentheses, then the fields after them. */
function readStat(path: string): { name: string; f: string[] } {
  const st = readFileSync(path, 'utf8');
  const close = st.lastIndexOf(')');
  return { name: st.slice(st.indexOf('(') + 1, close), f: st.slice(close + 2).split(' ') };
}

/** CPU seconds so far of this process and each of its descendants, by role (Chromium's --type, the world, the engine). */
export function cpuByRole(): Map<string, number> {
  const tick = 100; // USER_HZ on Linux
  const seconds = (f: string[], ...at: number[]) => at.reduce((sum, i) => sum + Number(f[i]), 0) / tick;
  const procs = new Map<
    number,
    { ppid: number; cpu: number; role: string; threads: { role: string; cpu: number }[]; kernel: number }
  >();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const { f } = readStat(`/proc/${d}/stat`);
      const cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      // Chromium rewrites its title into argv[0], flags included
      const type = /--type=([\w-]+)/.exec(cmd.join(' '))?.[1];
      const role = /chrom/.test(cmd[0] ?? '')
        ? `chromium ${type ?? 'browser'}`
        : Number(d) === process.pid
          ? 'engine (node)'
          : 'world and pty';
      // the world's shells and world-init reap the flood's processes: their children's time counts too
      const cpu = role === 'world and pty' ? seconds(f, 11, 12, 13, 14) : seconds(f, 11, 12);
      // the renderer's threads apart: its main thread is where xterm parses and the page lays out
      const threads =
        type === 'renderer'
          ? readdirSync(`/proc/${d}/task`).flatMap((t) => {
              const ts = readStat(`/proc/${d}/task/${t}/stat`);
              const name = ts.name.replace(/\d+$/, '');
              const thread = { role: `  renderer thread ${name}`, cpu: seconds(ts.f, 11, 12) };
              if (name !== 'chromium') return [thread];
              // the main thread's time runnable but not running (schedstat, ns): the CPU others had meanwhile
              let waited: number;
              try {
                waited = Number(readFileSync(`/proc/${d}/task/${t}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
              } catch {
                return [thread]; // a kernel without schedstats
              }
              return [thread, { role: '  renderer main thread: waited for a CPU', cpu: waited }];
            })
          : [];
      // each process's time in the kernel apart: the engine's reading and the world's writing of the pty is mostly there
      const kernel = seconds(f, 12) + (role === 'world and pty' ? seconds(f, 14) : 0);
      procs.set(Number(d), { ppid: Number(f[1]), cpu, role, threads, kernel });
    } catch {
      /* gone */
    }
  }
  const mine = (pid: number): boolean =>
    pid === process.pid || (pid > 1 && procs.has(pid) && mine(procs.get(pid)!.ppid));
  const out = new Map<string, number>();
  const add = (role: string, cpu: number) => out.set(role, (out.get(role) ?? 0) + cpu);
  // the machine's idle time and its kernel threads (the pty's flush_to_ldisc runs in kworkers): is the CPU full?
  const all = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/);
  add('machine: idle, all cores', (Number(all[4]) + Number(all[5])) / tick);
  for (const [pid, p] of procs) {
    if (p.ppid === 2) add('kernel threads', p.cpu);
    if (!mine(pid)) continue;
    add(p.role, p.cpu);
    add(`  ${p.role.trim()}: in the kernel`, p.kernel);
    for (const t of p.threads) add(t.role, t.cpu);
  }
  return out;
}

/**
 * The shortest a flood could have taken with the CPU it used: every process's time (Chromium's, the engine's,
 * the world's, the kernel threads') spread over every core. A flood whose bound is over 1.3× its floor could not
 * have met the target on this machine, whatever the scheduling.
 */
export function cpuBoundMs(before: Map<string, number>, after: Map<string, number>): number {
  let used = 0;
  // the indented roles are parts of a process's time (a thread, the kernel's share, a wait): counted in it already
  for (const [role, s] of after)
    if (!role.startsWith(' ') && !role.startsWith('machine')) used += s - (before.get(role) ?? 0);
  return (used * 1000) / cpus().length;
}

/** CPU seconds by role between two readings (the second: now), largest first. */
export function cpuSince(before: Map<string, number>, after = cpuByRole()): (readonly [string, number])[] {
  return [...after]
    .map(([role, s]) => [role, s - (before.get(role) ?? 0)] as const)
    .filter(([, s]) => s >= 0.05)
    .sort((a, b) => b[1] - a[1]);
}

/**
 * "Start world" to a usable node1 prompt, timed in the page: it clicks the moment each control is there.
 * Free play opens node1's terminal with the start (its request sent right behind world.start); a build
 * that does not (the A/B's older one) is given "+" → node1 the moment the world runs, as before.
 * `toDrawn`: the prompt in the rows xterm drew (its DOM renderer's frame), stamped by a MutationObserver as
 * xterm writes them; `toPrompt`: the prompt in xterm's buffer, polled by a 1 ms timer (the figure of
 * session 7), which runs only when the page is free and so may come after the prompt is on screen.
 */
export function startToPrompt(d: Driver): Promise<{
  toPrompt: number;
  toDrawn: number;
  toRunning: number;
  firstPrompt: number;
  opened: 'with the start' | 'from the menu';
}> {
  return d.evaluate(async (nodes) => {
    const wait = (cond: () => boolean, what: string) =>
      new Promise<number>((resolve, reject) => {
        const t0 = performance.now();
        const tick = () => {
          if (cond()) resolve(performance.now());
          else if (performance.now() - t0 > 30_000) reject(new Error(`the page never showed ${what}`));
          else setTimeout(tick, 1);
        };
        tick();
      });
    const el = (id: string) => document.querySelector<HTMLElement>(`[data-testid="${id}"]`);
    const idOf = (title: string) => {
      const tab = [...document.querySelectorAll('.tabs [role="tab"][data-status]')].find(
        (t) => t.querySelector('.tab-title')?.textContent === title,
      );
      return tab?.getAttribute('data-testid')?.slice(4) ?? '';
    };
    const screenOf = (title: string) => window.podnetScreens.text(idOf(title)) ?? '';
    // what xterm drew (its DOM renderer's rows), not only what it parsed
    const drawnOf = (title: string) =>
      document.querySelector(`[data-testid="terminal-${idOf(title)}"] .xterm-rows`)?.textContent ?? '';
    // the page has loaded: wait until it has reached the engine and can start a world
    await wait(
      () =>
        /connected/i.test(el('connection-state')?.textContent ?? '') &&
        !(el('world-start') as HTMLButtonElement)?.disabled,
      'a connected page',
    );
    const input = el('node-count') as HTMLInputElement;
    // React listens for input events and reads the value through the prototype's setter
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(input, String(nodes));
    input.dispatchEvent(new Event('input', { bubbles: true }));
    // React renders the new count; and a person reads the page a second before they click: the page's
    // own work after it loads (its first views, the xterm it builds ahead) is over by then, as it is here
    await new Promise((r) => setTimeout(r, 1000));
    // the moment xterm puts the prompt in its rows (its frame's DOM update), seen as it happens: a timer
    // polling for it would wait behind whatever the page does next (drawing the running world's views)
    let drawnAt = 0;
    const drawnWatch = new MutationObserver(() => {
      if (!drawnAt && /root@node1:\/#/.test(drawnOf('node1'))) drawnAt = performance.now();
    });
    drawnWatch.observe(document.body, { subtree: true, childList: true, characterData: true });
    const t0 = performance.now();
    el('world-start')!.click();
    const isRunning = () => /running/i.test(el('world-state')?.textContent ?? '') && !!el('new-terminal');
    // React renders the click's updates a moment later: a node1 tab then, or none until the world runs
    await wait(() => !!idOf('node1') || isRunning(), 'a node1 tab or the world running');
    const withStart = !!idOf('node1');
    const promptShown = () => /root@node1:\/# *$/m.test(screenOf('node1'));
    let asked = t0;
    let running: number;
    let prompt: number;
    if (withStart) {
      // each stamped on its own: the prompt may come before the world is shown running
      [running, prompt] = await Promise.all([
        wait(isRunning, 'the world running'),
        wait(promptShown, 'a node1 prompt'),
      ]);
    } else {
      running = await wait(isRunning, 'the world running');
      el('new-terminal')!.click();
      await wait(() => !!el('terminal-menu-item-node1'), 'the menu');
      asked = performance.now();
      el('terminal-menu-item-node1')!.click();
      prompt = await wait(promptShown, 'a node1 prompt');
    }
    const drawn = await wait(() => drawnAt > 0, 'a node1 prompt drawn').then(() => drawnAt);
    drawnWatch.disconnect();
    // in xterm's buffer no later than drawn: the timer polling the buffer may wait behind the page's next
    // tasks (the running world's views), the drawing is seen as it happens
    prompt = Math.min(prompt, drawn);
    return {
      toPrompt: prompt - t0,
      toDrawn: drawn - t0,
      toRunning: running - t0,
      firstPrompt: prompt - asked,
      opened: withStart ? ('with the start' as const) : ('from the menu' as const),
    };
  }, 2);
}

export interface Flood {
  /** From typing the command to its end marker on the screen. */
  through: number;
  /** Animation frames over 50 ms (long-animation-frame entries), longest first. */
  frames: number[];
  /** The same, each with its parts (rendering, and its scripts by invoker), longest first. */
  longFrames: string[];
  /** Input delay of pointer moves every 50 ms, longest first. */
  input: number[];
  /** The longest lag of a 5 ms timer. */
  lag: number;
  /** The page's pacer (src-renderer/terminal/output-pacer.ts); an older build (--ab) has no piecesWhileFrameDue. */
  pace: { frames: number; holds: number; piecesWhileFrameDue?: number } | null;
  /** How far the page's xterm warm-up went (src-renderer/terminal/warm-xterm.ts). */
  warm: { done: boolean; stopped: boolean; bytes: number };
  cpu: (readonly [string, number])[];
  /** The shortest the flood could have taken with the CPU it used (cpuBoundMs). */
  cpuBound: number;
}

/**
 * 50 MB into the page's first terminal (already at a prompt), typed as a person would; `marker` is a
 * number the command prints at its end (unique per round: an earlier round's is still on screen).
 */
export async function floodOnce(d: Driver, marker: number): Promise<Flood> {
  const poll = async (fn: (re: string) => boolean, arg: string, timeoutMs: number) => {
    const t0 = performance.now();
    while (!(await d.evaluate(fn, arg))) {
      if (performance.now() - t0 > timeoutMs) throw new Error(`the page never showed ${arg}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  // the first terminal's screen, read from xterm's buffer (a GPU renderer would draw on a canvas)
  const shows = (re: string) => {
    const id = document.querySelector('[data-testid^="tab-t"]')?.getAttribute('data-testid')?.slice(4) ?? '';
    const text = window.podnetScreens.text(id) ?? '';
    return new RegExp(re).test(text);
  };
  // What a person would feel as a stall during the flood, three ways:
  // - the longest animation frame (the browser's long-animation-frame entries, > 50 ms): the screen
  //   did not update for that long, whatever the cause;
  // - input delay: pointer moves over the status bar every 50 ms, from the browser's timestamp to
  //   the page's handler (how long a click or a key would wait);
  // - the lag of a 5 ms timer (timers are the lowest-priority work: starved, not blocked, under load).
  const bar = await d.evaluate(() => {
    const w = window as unknown as {
      __lag: number;
      __tick: number;
      __timer: number;
      __frames: number[];
      __why: string[];
      __input: number[];
      __observing?: boolean;
    };
    w.__lag = 0;
    w.__frames = [];
    w.__why = [];
    w.__input = [];
    if (!w.__observing) {
      w.__observing = true;
      // each long frame's parts: its scripts (by what invoked them) and its rendering (style, layout, paint)
      type Loaf = PerformanceEntry & {
        renderStart: number;
        styleAndLayoutStart: number;
        scripts: {
          invoker: string;
          duration: number;
          sourceFunctionName: string;
          forcedStyleAndLayoutDuration: number;
        }[];
      };
      new PerformanceObserver((l) =>
        (l.getEntries() as Loaf[]).forEach((e) => {
          w.__frames.push(Math.round(e.duration));
          const end = e.startTime + e.duration;
          const render = e.renderStart ? end - e.renderStart : 0;
          const scripts = e.scripts
            .filter((x) => x.duration >= 5)
            .map(
              (x) =>
                `${x.invoker.slice(0, 40)}${x.sourceFunctionName ? ` (${x.sourceFunctionName})` : ''} ${Math.round(x.duration)}${x.forcedStyleAndLayoutDuration >= 5 ? `, forced layout ${Math.round(x.forcedStyleAndLayoutDuration)}` : ''}`,
            )
            .join(', ');
          w.__why.push(`${Math.round(e.duration)} ms: rendering ${Math.round(render)} [${scripts}]`);
        }),
      ).observe({
        type: 'long-animation-frame',
        buffered: false,
      });
      document.addEventListener('pointermove', (e) => w.__input.push(performance.now() - e.timeStamp), {
        capture: true,
        passive: true,
      });
    }
    w.__tick = performance.now();
    clearInterval(w.__timer);
    w.__timer = window.setInterval(() => {
      const now = performance.now();
      w.__lag = Math.max(w.__lag, now - w.__tick - 5);
      w.__tick = now;
    }, 5);
    document.querySelector<HTMLTextAreaElement>('.xterm-helper-textarea')!.focus();
    const r = document.querySelector('[data-testid="world-state"]')!.getBoundingClientRect();
    return { x: r.x, y: r.y + r.height / 2 };
  }, null);
  const cpu0 = cpuByRole();
  const t1 = performance.now();
  await d.typeLine(`${FLOOD}; echo flood-$((${marker}*1))`);
  let flooding = true;
  const probe = (async () => {
    for (let i = 0; flooding; i++) {
      await d.moveMouse(bar.x + 2 + (i % 2) * 4, bar.y);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await poll(shows, `flood-${marker}\\b`, 300_000);
  const through = performance.now() - t1;
  const cpu1 = cpuByRole();
  flooding = false;
  await probe;
  const m = await d.evaluate(() => {
    const w = window as unknown as {
      __lag: number;
      __frames: number[];
      __why: string[];
      __input: number[];
      __timer: number;
    };
    clearInterval(w.__timer);
    const id = document.querySelector('[data-testid^="tab-t"]')?.getAttribute('data-testid')?.slice(4) ?? '';
    const pace = window.podnetScreens.pace(id);
    const longFrames = w.__why.sort((a, b) => parseInt(b) - parseInt(a));
    const frames = w.__frames.sort((a, b) => b - a);
    const warm = window.podnetScreens.warm();
    return { lag: w.__lag, frames, longFrames, input: w.__input.sort((a, b) => b - a), pace, warm };
  }, null);
  return { through, ...m, cpu: cpuSince(cpu0, cpu1), cpuBound: cpuBoundMs(cpu0, cpu1) };
}

/** A CPU profile's functions by self time (ms), the top `n`. */
export function topSelf(profile: CpuProfile, n = 25): string[] {
  const self = new Map<string, number>();
  const byId = new Map(profile.nodes.map((x) => [x.id, x]));
  const dt = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)!;
    const f = node.callFrame;
    const file = f.url.replace(/^.*\//, '');
    const key = `${f.functionName || '(anonymous)'} ${file}${file ? `:${f.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + (dt[i + 1] ?? 0) / 1000);
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  return [
    `total ${total.toFixed(0)} ms`,
    ...[...self]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, ms]) => `${ms.toFixed(0).padStart(7)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${k}`),
  ];
}

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

export interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: { name?: string };
}

/** Starts a Chromium trace of the timeline (what the Performance panel records). */
export function startTrace(b: BareChromium): { started: Promise<unknown>; stop(): Promise<TraceEvent[]> } {
  const events: TraceEvent[] = [];
  const onData = (p: { value: TraceEvent[] }) => events.push(...p.value);
  b.events.on('Tracing.dataCollected', onData);
  const categories =
    process.env.FLOOD_TRACE_CATEGORIES ?? 'devtools.timeline,disabled-by-default-devtools.timeline,toplevel,v8.execute';
  return {
    started: b.send('Tracing.start', { categories, transferMode: 'ReportEvents' }),
    async stop() {
      const done = new Promise((r) => b.events.once('Tracing.tracingComplete', r));
      await b.send('Tracing.end');
      await done;
      b.events.off('Tracing.dataCollected', onData);
      return events;
    },
  };
}

/** Self time by event name on the renderer's main thread (complete events, nested by time). */
export function traceSelf(events: TraceEvent[], n = 25): string[] {
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  if (!main) return ['no renderer main thread in the trace'];
  const xs = events
    .filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur !== undefined)
    .sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
  const self = new Map<string, number>();
  const stack: { end: number; name: string }[] = [];
  let busy = 0;
  for (const e of xs) {
    while (stack.length && stack.at(-1)!.end <= e.ts) stack.pop();
    const parent = stack.at(-1);
    if (parent) self.set(parent.name, (self.get(parent.name) ?? 0) - Math.min(e.dur!, parent.end - e.ts) / 1000);
    else busy += e.dur! / 1000;
    self.set(e.name, (self.get(e.name) ?? 0) + e.dur! / 1000);
    stack.push({ end: e.ts + e.dur!, name: e.name });
  }
  const first = xs[0]?.ts ?? 0;
  const last = xs.reduce((m, e) => Math.max(m, e.ts + e.dur!), 0);
  return [
    `span ${((last - first) / 1000).toFixed(0)} ms, busy ${busy.toFixed(0)} ms`,
    ...[...self]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, ms]) => `${ms.toFixed(0).padStart(7)} ms  ${k}`),
  ];
}

/** The engine and its browser host from a build's out/ folder (this one, or another for an A/B). */
export async function hostFrom(outDir: string): Promise<{ engine: Engine; host: WebHost }> {
  const load = (p: string) => import(pathToFileURL(join(outDir, p)).href);
  const { createEngine } = await load('src-main/engine/engine.js');
  const { startWebHost } = await load('src-main/web/server.js');
  const { TerminalService, engineTerminals } = await load('src-main/terminal/terminal-service.js');
  // an earlier build (--ab) may have no process waiting ahead
  const engine: Engine = createEngine(
    engineTerminals ? engineTerminals() : { terminals: (w: unknown, r: unknown) => new TerminalService(w, r) },
  );
  const host: WebHost = await startWebHost({
    api: engine.api,
    events: engine.events,
    rendererDir: join(outDir, 'renderer'),
  });
  return { engine, host };
}

const note = (what: string) => process.stderr.write(`[flood] ${what}\n`);

async function main() {
  const rounds = Number(arg('--rounds') ?? 3);
  const ab = arg('--ab');
  const profileDir = arg('--profile');
  const traceDir = arg('--trace');
  const builds = [{ name: 'this build', out: join(import.meta.dirname, '..') }];
  if (ab) builds.push({ name: `A/B: ${ab}`, out: resolve(ab) });
  const apps: { name: string; host: { engine: Engine; host: WebHost }; b: BareChromium; d: Driver }[] = [];
  let floorPage: BareChromium | undefined;
  const rows: string[] = [];
  try {
    for (const build of builds) {
      const host = await hostFrom(build.out);
      const b = await launchBareChromium(host.host.url);
      const d = bareDriver(b);
      apps.push({ name: build.name, host, b, d });
      note(`${build.name}: start world, node1 prompt…`);
      await startToPrompt(d);
    }
    floorPage = await launchBareChromium(apps[0]!.host.host.url);
    const origin = new URL(apps[0]!.host.host.url).origin;
    for (let r = 1; r <= rounds; r++) {
      const load = loadavg()[0]!.toFixed(2);
      note(`round ${r}: the floor…`);
      const floorProfiling = profileDir && r === 1;
      if (floorProfiling) {
        await floorPage.send('Profiler.enable');
        await floorPage.send('Profiler.setSamplingInterval', { interval: 200 });
        await floorPage.send('Profiler.start');
      }
      let overWebSocket = new Map<string, number>();
      const floor = await xtermFloor(floorPage, origin, BYTES, () => (overWebSocket = cpuByRole()));
      const floorCpu = cpuSince(overWebSocket);
      if (floorProfiling) {
        const page = (await floorPage.send('Profiler.stop')).profile as CpuProfile;
        mkdirSync(profileDir, { recursive: true });
        writeFileSync(join(profileDir, 'floor.cpuprofile'), JSON.stringify(page));
        rows.push(
          '  the floor page, from memory then over a WebSocket (self time):',
          ...topSelf(page).map((l) => `    ${l}`),
        );
      }
      rows.push(
        `round ${r} (load ${load}): floor ${floor.websocketMs.toFixed(0)} ms over a WebSocket (${floor.memoryMs.toFixed(0)} from memory; its frames over 50 ms: ${floor.longFrames.length}${floor.longFrames.length ? `, longest ${floor.longFrames[0]}` : ''})`,
      );
      rows.push(
        `    CPU of the floor over the WebSocket (s): ${floorCpu.map(([role, s]) => `${role.trim()} ${s.toFixed(2)}`).join(', ')}`,
      );
      // the builds take turns going first: the load's swings fall on both alike
      const order = r % 2 ? [...apps.entries()] : [...apps.entries()].reverse();
      for (const [i, a] of order) {
        note(`round ${r}: ${a.name}…`);
        const profiling = profileDir && i === 0;
        const engineSession = profiling ? new Session() : undefined;
        if (profiling) {
          await a.b.send('Profiler.enable');
          await a.b.send('Profiler.setSamplingInterval', { interval: 200 });
          await a.b.send('Profiler.start');
          engineSession!.connect();
          await engineSession!.post('Profiler.enable');
          await engineSession!.post('Profiler.setSamplingInterval', { interval: 200 });
          await engineSession!.post('Profiler.start');
        }
        const tracing = traceDir && i === 0 ? startTrace(a.b) : undefined;
        if (tracing) await tracing.started;
        const f = await floodOnce(a.d, 1000 + r * 10 + i);
        if (tracing) {
          const events = await tracing.stop();
          mkdirSync(traceDir!, { recursive: true });
          writeFileSync(join(traceDir!, `trace-${r}.json`), JSON.stringify({ traceEvents: events }));
          rows.push('  renderer main thread (trace, self time):', ...traceSelf(events).map((l) => `    ${l}`));
        }
        if (profiling) {
          const page = (await a.b.send('Profiler.stop')).profile as CpuProfile;
          const engine = (await engineSession!.post('Profiler.stop')).profile as unknown as CpuProfile;
          engineSession!.disconnect();
          mkdirSync(profileDir, { recursive: true });
          writeFileSync(join(profileDir, `page-${r}.cpuprofile`), JSON.stringify(page));
          writeFileSync(join(profileDir, `engine-${r}.cpuprofile`), JSON.stringify(engine));
          rows.push('  page profile (self time):', ...topSelf(page).map((l) => `    ${l}`));
          rows.push('  engine profile (self time):', ...topSelf(engine).map((l) => `    ${l}`));
        }
        rows.push(
          `  ${a.name}: ${f.through.toFixed(0)} ms = ${(f.through / floor.websocketMs).toFixed(2)}× the floor; frames over 50 ms ${f.frames.length}${f.frames.length ? ` (${f.frames.slice(0, 6).join(', ')})` : ''}; drawn ${f.pace?.frames ?? '?'}, held ${f.pace?.holds ?? '?'}, pieces while a frame was due ${f.pace?.piecesWhileFrameDue ?? '-'}; input delay longest ${(f.input[0] ?? 0).toFixed(0)} ms; the page's xterm warm-up: ${Math.round(f.warm.bytes / 1024)} KiB${f.warm.done ? ', done' : f.warm.stopped ? ', stopped by input' : ''}`,
          ...f.longFrames.slice(0, 6).map((l) => `    long frame ${l}`),
          `    CPU (s): ${f.cpu.map(([role, s]) => `${role.trim()} ${s.toFixed(2)}`).join(', ')}`,
          `    the CPU it used, over ${cpus().length} cores: at least ${f.cpuBound.toFixed(0)} ms = ${(f.cpuBound / floor.websocketMs).toFixed(2)}× the floor`,
        );
      }
    }
  } finally {
    await floorPage?.close();
    for (const a of apps) {
      await a.b.close().catch(() => {});
      await a.host.host.close().catch(() => {});
      await a.host.engine.dispose().catch(() => {});
    }
  }
  console.log(`terminal flood: ${MB} MB, ${rounds} rounds, ${cpus().length} cores\n${rows.join('\n')}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
