// The start path's figures, each with its parts: "Start world" (2 nodes) in the app to node1's prompt,
// against createWorld in the same rounds (the target of issue #18: ≤ 1.5×); a world's start (createWorld,
// 2 nodes) and a lab's open (lab 10, two nodes and a VXLAN overlay, to its first check evaluated),
// through the engine as the app does it; and a terminal's open to its prompt in the engine (a shell
// started ahead, and one started on the request). Used by bench/terminal-throughput.ts; alone:
//   npm run -s build && node out/bench/start-path.js [--rounds N] [--ab DIR] [--app-only]
// --ab DIR: another build's out/ folder (node_modules reachable above it): its app takes turns with this one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { createEngine } from '../src-main/engine/engine.js';
import { loadLab } from '../src-main/labs/loader.js';
import { engineTerminals, TerminalService } from '../src-main/terminal/terminal-service.js';
import { createWorld, type WorldStartTimes } from '../src-main/world/world.js';
import { launchBareChromium } from './bare-chromium.js';
import { bareDriver, hostFrom, startToPrompt } from './terminal-flood.js';
import { argOf as arg } from './args.js';

const ROOT =
  [join(import.meta.dirname, '..', '..'), join(import.meta.dirname, '..')].find((d) => !d.endsWith('/out')) ??
  join(import.meta.dirname, '../..');
const LAB10 = join(ROOT, 'labs', '10-vxlan-overlay');

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Per part, the median over runs (each part's own median: they need not come from one run). */
function medians<K extends string>(runs: Record<K, number>[]): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const k of Object.keys(runs[0]!) as K[]) out[k] = median(runs.map((r) => r[k]));
  return out;
}

/** createWorld with 2 nodes, `rounds` times: the median of the whole and of each part. */
export async function worldStart(rounds: number): Promise<WorldStartTimes> {
  const runs: WorldStartTimes[] = [];
  for (let i = 0; i < rounds; i++) {
    const w = await createWorld({ nodes: 2 });
    runs.push({ ...w.startTimes });
    await w.destroy();
  }
  return medians(runs as unknown as Record<keyof WorldStartTimes, number>[]);
}

export interface LabOpenTimes {
  /** lab.open: the lab read, its starting world built and the lab's part attached (the others attach alongside). */
  open: number;
  world: number;
  furnish: number;
  attach: number;
  /** The first lab.check, all of the step's checks evaluated. */
  check: number;
  total: number;
}

/** Lab 10 opened in a fresh engine, then checked once, `rounds` times. */
export async function labOpen(rounds: number): Promise<LabOpenTimes> {
  const lab = loadLab(LAB10);
  const runs: LabOpenTimes[] = [];
  // the learner's progress goes to a folder of the benchmark's own, not the user's
  const progress = mkdtempSync(join(tmpdir(), 'podnet-bench-progress-'));
  process.env.PODNET_PROGRESS_DIR = progress;
  process.env.PODNET_LABS_DIR = join(ROOT, 'labs');
  for (let i = 0; i < rounds; i++) {
    // the engine's terminals as the app's hosts make them (web/main.ts, app/main.ts): a pty-exec waits ahead
    const engine = createEngine(engineTerminals());
    try {
      const t0 = performance.now();
      await engine.api['lab.open']({ id: lab.id });
      const open = performance.now() - t0;
      const t1 = performance.now();
      const checks = await engine.api['lab.check']({});
      const check = performance.now() - t1;
      if (!checks.results.length) throw new Error('lab 10 checked nothing: its first step has no checks?');
      // the live views may still be attaching (they do so alongside): their time is a part, not on the path
      await engine.session.partsAttached();
      const { world, furnish, attach } = engine.session.lastStart;
      runs.push({ open, world, furnish, attach, check, total: open + check });
    } finally {
      await engine.dispose();
    }
  }
  rmSync(progress, { recursive: true, force: true });
  return medians(runs as unknown as Record<keyof LabOpenTimes, number>[]);
}

export interface TerminalPromptTimes {
  /** open() itself: a handed-over shell is resized; otherwise node-pty forks the engine for pty-exec. */
  open: number;
  /** From the request to the prompt in the terminal's output. */
  prompt: number;
}

/** A node terminal's request → prompt in the engine: `ahead` takes the shell started ahead (prepare). */
export async function terminalPrompt(rounds: number, ahead: boolean): Promise<TerminalPromptTimes> {
  const runs: TerminalPromptTimes[] = [];
  const w = await createWorld({ nodes: 2 });
  try {
    for (let i = 0; i < rounds; i++) {
      const svc = new TerminalService(w, () => undefined);
      if (ahead) {
        svc.prepare(['node1']);
        await new Promise((r) => setTimeout(r, 400)); // the shell at its prompt, as after a world's start
      }
      let text = '';
      let id = '';
      const prompt = new Promise<number>((resolve) =>
        svc.on('data', (d) => {
          text += Buffer.from(d.data).toString();
          if (d.id === id && /root@node1:\/# *$/.test(text)) resolve(performance.now());
        }),
      );
      const t0 = performance.now();
      id = svc.open({ kind: 'node', node: 'node1' }, 120, 40).id;
      const open = performance.now() - t0;
      runs.push({ open, prompt: (await prompt) - t0 });
      svc.dispose();
    }
  } finally {
    await w.destroy();
  }
  return medians(runs as unknown as Record<keyof TerminalPromptTimes, number>[]);
}

export interface AppStartRound {
  build: string;
  /** Load average (1 min) as the round began. */
  load: number;
  /** The engine's createWorld just before the app's round. */
  createWorld: number;
  toRunning: number;
  toPrompt: number;
  toDrawn: number;
  opened: string;
}

/**
 * "Start world" (2 nodes) → node1's prompt through each build's app in a bare Chromium (bench/bare-chromium.ts),
 * the builds and createWorld taking turns round by round (the load's swings fall on all alike).
 */
export async function appStart(rounds: number, builds: { name: string; out: string }[]): Promise<AppStartRound[]> {
  const apps = [];
  const out: AppStartRound[] = [];
  try {
    for (const b of builds) {
      const host = await hostFrom(b.out);
      apps.push({ name: b.name, host, b: await launchBareChromium(host.host.url) });
    }
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? [...apps].reverse() : apps;
      for (const a of order) {
        const load = loadavg()[0]!;
        const t0 = performance.now();
        const w = await createWorld({ nodes: 2 });
        const cw = performance.now() - t0;
        await w.destroy();
        const s = await startToPrompt(bareDriver(a.b));
        out.push({ build: a.name, load, createWorld: cw, ...s });
        await a.host.engine.api['world.stop']({});
        // no tab left, the world shown stopped: the next start is a first one, and no world idles meanwhile
        await a.b.evaluate(async () => {
          for (const x of document.querySelectorAll<HTMLElement>('.tabs [data-testid^="tab-close-"]')) x.click();
          while (!/stopped/i.test(document.querySelector('[data-testid="world-state"]')?.textContent ?? ''))
            await new Promise((r) => setTimeout(r, 10));
        }, null);
      }
    }
  } finally {
    for (const a of apps) {
      await a.b.close().catch(() => {});
      await a.host.host.close().catch(() => {});
      await a.host.engine.dispose().catch(() => {});
    }
  }
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const f = (n: number) => n.toFixed(0);
  const builds = [{ name: 'this build', out: join(import.meta.dirname, '..') }];
  const ab = arg('--ab');
  if (ab) builds.push({ name: `A/B ${ab}`, out: resolve(ab) });
  const runs = await appStart(Number(arg('--rounds') ?? 5), builds);
  for (const b of builds) {
    const mine = runs.filter((r) => r.build === b.name);
    // the first round pays the page's and the engine's cold start: shown, and left out of the medians
    const warm = mine.length > 2 ? mine.slice(1) : mine;
    const cw = median(warm.map((r) => r.createWorld));
    const p = median(warm.map((r) => r.toPrompt));
    const d = median(warm.map((r) => r.toDrawn));
    console.log(
      `${b.name}: "Start world" (2 nodes) → node1 prompt (median of ${warm.length}, node1's terminal opened ${mine[0]?.opened}): ${f(p)} ms in xterm's buffer, ${f(d)} drawn; createWorld ${f(cw)} ms; ${(p / cw).toFixed(2)}× (drawn ${(d / cw).toFixed(2)}×; target ≤ 1.5×: ${p / cw <= 1.5 ? 'met' : 'MISSED'})`,
    );
    console.log(
      `  rounds: ${mine.map((r) => `${f(r.toPrompt)}/${f(r.toDrawn)} (running ${f(r.toRunning)}; createWorld ${f(r.createWorld)}; load ${r.load.toFixed(1)})`).join(', ')}`,
    );
  }
  if (process.argv.includes('--app-only')) process.exit(0);
  const world = await worldStart(9);
  console.log(`machine load (1 min): ${loadavg()[0]!.toFixed(2)}`);
  console.log(
    `createWorld, 2 nodes (median of 9): ${f(world.total)} ms = checks ${f(world.checks)} + world-init up ${f(world.init)} + its root reached ${f(world.root)} + the nodes ${f(world.nodes)} (the underlay, alongside: ${f(world.underlay)}); ${(world.total / 203).toFixed(2)} of #18's 203 ms`,
  );
  const ahead = await terminalPrompt(7, true);
  const fresh = await terminalPrompt(7, false);
  console.log(
    `node terminal, request → prompt in the engine (median of 7): a shell started ahead ${f(ahead.prompt)} ms (open ${ahead.open.toFixed(1)}); started on the request ${f(fresh.prompt)} ms (open: node-pty's fork ${fresh.open.toFixed(1)})`,
  );
  const lab = await labOpen(3);
  console.log(
    `lab 10 open → first check (median of 3): ${f(lab.total)} ms = lab.open ${f(lab.open)} (the world ${f(lab.world)} + its pods and configs ${f(lab.furnish)} + the rest) + the first lab.check ${f(lab.check)}; the parts' attach, alongside: ${f(lab.attach)}`,
  );
  process.exit(0);
}
