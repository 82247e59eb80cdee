// Benchmark: a workshop room of K seats on this machine (issue 19). Joins K seats over HTTP, opens lab 10
// (two nodes, a VXLAN overlay) in each over its own WebSocket (as the page does; no browser: K Chromiums
// would measure Chromium), then in every seat at once types each step's solution into the node's
// terminal and times it until the step's checks turn green (the lab.checks event). Steps 1–3 (the
// capture of step 4 runs for seconds by design). Per seat: memory (the world's processes, the engine's
// share), CPU seconds; p95 command → green; and the floor: the same commands run by world.exec in a
// bare world of the same shape in the same run (no terminal, no checks), as a ratio. Then the largest K with
// p95 ≤ 2 s (between the K values run), and the limit that binds: memory, CPU or processes.
// --profile: where the worlds' CPU goes (each exec counted by the engine part that made it, and the live
// processes' own CPU by command); run it under `node --cpu-prof` for the engine's own.
// Usage: npm run -s build && node out/bench/workshop.js [--k 1,10,30] [--profile] — not part of the test suite.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { NetviewPart } from '../src-main/netview/netview-part.js';
import type { SessionPart } from '../src-main/session/session.js';
import { World } from '../src-main/world/world.js';
import { loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { loadLab } from '../src-main/labs/loader.js';
import { worldSpecOf } from '../src-main/labs/lab-world.js';
import { buildWorld } from '../src-main/session/world-spec.js';
import { readStat, worldProcesses } from '../src-main/world/memory-watch.js';
import { startWorkshop, type Workshop } from '../src-main/workshop/workshop-server.js';
import { RENDERER } from '../test/e2e/harness.js';
import { argOf as arg } from './args.js';

const ROOT =
  [join(import.meta.dirname, '..', '..'), join(import.meta.dirname, '..')].find((d) => !d.endsWith('/out')) ??
  join(import.meta.dirname, '../..');
const LAB_ID = '10-vxlan-overlay';
const STEPS = 3;
const KS = (arg('--k') ?? '1,10').split(',').map(Number);
const PROFILE = process.argv.includes('--profile');
const MiB = 1024 ** 2;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const median = (xs: number[]) => pct(xs, 50);
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/**
 * CPU seconds a world has used: each live process's own time and its reaped children's (which holds
 * every command that ended under a live process), so a delta counts what ran in between. Not the
 * machine's busy time: other users of these 2 cores are not ours to count.
 */
function worldCpuSeconds(initHostPid: number): number {
  let ticks = 0;
  for (const p of worldProcesses(initHostPid, false)) {
    // utime, stime, cutime, cstime: fields 14–17, here 11–14 after pid and comm (none: gone meanwhile, its time
    // is in its parent's cutime)
    const f = readStat(p.hostPid)?.f;
    if (f) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks / 100;
}

/** A live world process's own CPU ticks by its command (comm), and all of them. */
function cpuByCommand(initHostPid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of worldProcesses(initHostPid, false)) {
    const st = readStat(p.hostPid);
    if (st) out.set(`${p.hostPid} ${st.comm}`, Number(st.f[11]) + Number(st.f[12]));
  }
  return out;
}

/** Each exec and spawn in a world, counted by the part of the engine that made it (its caller's file). */
const execs = new Map<string, { n: number; ms: number }>();
function countExecs(): void {
  // the nearest caller decides: lab checks read through netview's snapshot module, netview's own reads too
  const partOf = (stack: string) => {
    const frames = stack.split('\n').slice(2);
    for (const f of frames) {
      if (/\/labs\//.test(f)) return 'lab checks';
      // the lab's own monitors (NetMonitor: a whole read per burst of events, to see whether to evaluate)
      if (/\/netview\/monitor\./.test(f)) return 'lab monitors';
      if (/\/netview\/(world-watch|netview-part)/.test(f)) return 'netview';
      if (/\/(runtime|cni|cluster)\//.test(f)) return 'runtime';
      if (/\/terminal/.test(f)) return 'terminals';
    }
    return 'other';
  };
  // the original, called with each world as its this
  const exec = Reflect.get<World, 'exec'>(World.prototype, 'exec');
  World.prototype.exec = async function (this: World, ...a: Parameters<World['exec']>) {
    const k = partOf(new Error().stack ?? '');
    const t0 = performance.now();
    try {
      return await exec.apply(this, a);
    } finally {
      const e = execs.get(k) ?? { n: 0, ms: 0 };
      e.n++;
      e.ms += performance.now() - t0;
      execs.set(k, e);
    }
  };
  const spawn = Reflect.get<World, 'spawn'>(World.prototype, 'spawn');
  World.prototype.spawn = function (this: World, ...a: Parameters<World['spawn']>) {
    const k = `${partOf(new Error().stack ?? '')} (spawned)`;
    const e = execs.get(k) ?? { n: 0, ms: 0 };
    e.n++;
    execs.set(k, e);
    return spawn.apply(this, a);
  };
}

/** A seat's netview part (its counters: reads made, events only marked stale). */
const netviewOf = (seat: { engine: { session: unknown } }) =>
  (seat.engine.session as { parts: SessionPart[] }).parts.find((p): p is NetviewPart => p instanceof NetviewPart)!;

const memAvailable = () => Number(/^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]) * 1024;

/** A wire message read back as JSON (asserted on, or read, field by field). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Wire = any;

/** A seat's socket speaking the contract as the page does. */
class SeatClient {
  private seq = 1;
  private readonly waiting = new Map<number, { res: (v: Wire) => void; rej: (e: Error) => void }>();
  readonly checks: { step: number; complete: boolean; at: number }[] = [];
  /** Waiters of green(), told of each lab.checks event. */
  private readonly onChecks = new Set<() => void>();
  /** What the last evaluation found failing (said when a step never turns green). */
  lastFailing = '';
  /** When each terminal output frame came (where the time went: the command's run, then the checks). */
  readonly output: number[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer, binary: boolean) => {
      if (binary) return void this.output.push(performance.now());
      const m = JSON.parse(d.toString());
      if (m.event === 'lab.checks') {
        this.lastFailing = (m.payload.results as { ok: boolean; id: string; found?: string }[])
          .filter((r) => !r.ok)
          .map((r) => `${r.id}: ${r.found}`)
          .join('; ');
        this.checks.push({ step: m.payload.step, complete: m.payload.complete, at: performance.now() });
        for (const look of [...this.onChecks]) look();
      }
      const w = m.id !== undefined && this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      if (m.error) w.rej(new Error(`${m.error.code}: ${m.error.message}`));
      else w.res(m.result);
    });
  }
  static open(port: number, token: string): Promise<SeatClient> {
    return new Promise((res, rej) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/rpc`, ['podnet', `podnet-token.${token}`], {
        headers: { Origin: `http://127.0.0.1:${port}` },
      });
      ws.once('open', () => res(new SeatClient(ws)));
      ws.once('error', rej);
    });
  }
  call(method: string, params: unknown = {}): Promise<Wire> {
    const id = this.seq++;
    return new Promise((res, rej) => {
      this.waiting.set(id, { res, rej });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
  /** When the step's checks are all green after `since` (ms, performance.now()). */
  green(step: number, since: number, timeoutMs = 120_000): Promise<number> {
    const hit = () => this.checks.find((c) => c.step === step && c.complete && c.at >= since);
    const now = hit();
    if (now) return Promise.resolve(now.at);
    // told by each lab.checks event as it comes, not polled: the engines measured run in this process
    return new Promise((res, rej) => {
      const timer = setTimeout(() => {
        this.onChecks.delete(look);
        rej(new Error(`step ${step + 1}'s checks not green after ${timeoutMs} ms (failing: ${this.lastFailing})`));
      }, timeoutMs);
      const look = () => {
        const h = hit();
        if (!h) return;
        clearTimeout(timer);
        this.onChecks.delete(look);
        res(h.at);
      };
      this.onChecks.add(look);
    });
  }
}

/** Runs `fn` over items, `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  const q = [...items];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let x = q.shift(); x !== undefined; x = q.shift()) await fn(x);
    }),
  );
}

async function floor(): Promise<number[]> {
  const lab = loadLab(join(ROOT, 'labs', LAB_ID));
  const times: number[] = [];
  for (let round = 0; round < 3; round++) {
    const { world, kubelet } = await buildWorld(worldSpecOf(lab));
    try {
      for (let s = 0; s < STEPS; s++) {
        const t0 = performance.now();
        for (const b of lab.steps[s]!.solution) await world.run({ kind: 'node', node: b.target }, ['sh', '-c', b.text]);
        times.push(performance.now() - t0);
      }
    } finally {
      kubelet.stop();
      await world.destroy();
    }
  }
  return times;
}

interface RoomFigures {
  k: number;
  openAllS: number;
  p50: number;
  p95: number;
  max: number;
  worldMiB: number;
  engineMiB: number;
  cpuSPerSeat: number;
  engineCpuS: number;
  /** How far the machine's MemAvailable fell per seat (kernel memory included; other users' noise too). */
  availMiB: number;
  ran: number;
  checked: number;
  processesPerSeat: number;
  /** Threads a seat's world holds (what the kernel's pid_max counts). */
  threadsPerSeat: number;
  /** Per seat, median: netview's reads and the monitor events it only marked stale, during the steps. */
  netviewReads: number;
  netviewMarked: number;
  load: string;
}

async function room(k: number): Promise<RoomFigures> {
  const lab = loadLab(join(ROOT, 'labs', LAB_ID));
  const state = mkdtempSync(join(tmpdir(), 'podnet-bench-workshop-'));
  const rssBefore = process.memoryUsage().rss;
  const availBefore = memAvailable();
  // the bench is the room's script: it joins all K at once, past a room's own per-address join limit
  const w: Workshop = await startWorkshop({
    seats: k,
    idleMs: 3_600_000,
    stateDir: state,
    rendererDir: RENDERER,
    joinRate: { burst: k, perSecond: k },
  });
  try {
    const clients: SeatClient[] = [];
    for (let i = 0; i < k; i++) {
      const r = await fetch(`${w.host.origin}/api/join?room=${w.room.code}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: `learner ${i + 1}` }),
      });
      const { url, error } = (await r.json()) as { url: string; error?: string };
      if (!url) throw new Error(`join ${i + 1}: ${r.status} ${error}`);
      clients.push(await SeatClient.open(w.host.port, new URL(url).searchParams.get('token')!));
    }
    // the instructor's "assign to all" opens two at a time: the same here
    const t0 = performance.now();
    await pool(clients, 2, async (c) => void (await c.call('lab.open', { id: LAB_ID })));
    const openAllS = (performance.now() - t0) / 1000;
    const terms = await Promise.all(
      clients.map(async (c) => {
        const t: Record<string, string> = {};
        for (const node of ['node1', 'node2'])
          t[node] = (await c.call('terminal.open', { target: { kind: 'node', node }, cols: 120, rows: 30 })).id;
        return t;
      }),
    );
    await new Promise((r) => setTimeout(r, 1500));
    const inits = w.room.list().map((seat) => seat.engine.session.runningWorld!.hostPid(1));
    const worldCpu0 = inits.map(worldCpuSeconds);
    const engineCpu0 = process.cpuUsage();
    const nv0 = w.room.list().map((seat) => netviewOf(seat).stats);
    const byCommand0 = PROFILE ? inits.map(cpuByCommand) : [];
    if (PROFILE) execs.clear();
    const latencies: number[] = [];
    /** Per step: input → its last output (the command ran), and last output → green (the checks' quiet wait and run). */
    const ran: number[] = [];
    const checked: number[] = [];
    // every seat at once, step by step, as a room does
    await Promise.all(
      clients.map(async (c, i) => {
        for (let s = 0; s < STEPS; s++) {
          const blocks = lab.steps[s]!.solution;
          let sent = 0;
          for (const b of blocks) {
            sent = performance.now();
            await c.call('terminal.input', { id: terms[i]![b.target]!, data: b.text.trimEnd() + '\n' });
          }
          // 30 seats at once on 2 cores: a step can take a minute; what counts is that it ends and is timed
          const green = await c.green(s, sent, 300_000);
          latencies.push(green - sent);
          const last = Math.max(sent, ...c.output.filter((t) => t >= sent && t <= green));
          ran.push(last - sent);
          checked.push(green - last);
          if (s + 1 < STEPS) await c.call('lab.goto', { step: s + 1 });
        }
      }),
    );
    const engineCpu = process.cpuUsage(engineCpu0);
    const worldCpu = inits.map((pid, i) => worldCpuSeconds(pid) - worldCpu0[i]!);
    const nv = w.room.list().map((seat, i) => {
      const s1 = netviewOf(seat).stats;
      return { reads: s1.reads - nv0[i]!.reads, marked: s1.marked - nv0[i]!.marked };
    });
    if (PROFILE) profileReport(k, inits, byCommand0, worldCpu);
    const engineS = (engineCpu.user + engineCpu.system) / 1e6 / k;
    const cpuS = median(worldCpu) + engineS;
    // the world's processes (PSS) and its tmpfs (memory a process does not hold)
    const worldBytes = await Promise.all(
      w.room.list().map(async (seat) => {
        const world = seat.engine.session.runningWorld!;
        const disk = await world.run({ kind: 'node', node: 'node1' }, ['df', '-B1', '--output=used', '/']);
        return worldProcesses(world.hostPid(1)).reduce((a, p) => a + p.bytes, 0) + Number(disk.split('\n')[1]);
      }),
    );
    const availPerSeat = (availBefore - memAvailable()) / k;
    const procs = w.room.list().map((seat) => worldProcesses(seat.engine.session.runningWorld!.hostPid(1)).length);
    const threads = w.room.list().map((seat) =>
      worldProcesses(seat.engine.session.runningWorld!.hostPid(1), false).reduce((a, p) => {
        try {
          return a + Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${p.hostPid}/status`, 'utf8'))![1]);
        } catch {
          return a;
        }
      }, 0),
    );
    for (const c of clients) c.ws.close();
    return {
      k,
      openAllS,
      p50: median(latencies),
      p95: pct(latencies, 95),
      max: Math.max(...latencies),
      worldMiB: median(worldBytes) / MiB,
      engineMiB: (process.memoryUsage().rss - rssBefore) / MiB / k,
      cpuSPerSeat: cpuS,
      engineCpuS: engineS,
      availMiB: availPerSeat / MiB,
      processesPerSeat: median(procs),
      threadsPerSeat: median(threads),
      netviewReads: median(nv.map((x) => x.reads)),
      netviewMarked: median(nv.map((x) => x.marked)),
      load: load(),
      ran: median(ran),
      checked: median(checked),
    };
  } finally {
    await w.close();
    rmSync(state, { recursive: true, force: true });
  }
}

/** Where the worlds' CPU went during the steps: live processes' own CPU by command, the rest ended (execs). */
function profileReport(k: number, inits: number[], before: Map<string, number>[], worldCpu: number[]): void {
  const byComm = new Map<string, number>();
  let live = 0;
  inits.forEach((pid, i) => {
    for (const [key, ticks] of cpuByCommand(pid)) {
      const d = (ticks - (before[i]!.get(key) ?? 0)) / 100;
      const comm = key.slice(key.indexOf(' ') + 1);
      byComm.set(comm, (byComm.get(comm) ?? 0) + d);
      live += d;
    }
  });
  const total = worldCpu.reduce((a, b) => a + b, 0);
  const top = [...byComm]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([c, sec]) => `${c} ${sec.toFixed(1)} s`)
    .join(', ');
  console.log(
    `profile K=${k}: the worlds used ${total.toFixed(1)} CPU-s in the steps: live processes' own ${live.toFixed(1)} s (${top}); ` +
      `processes that ended (execs, the learners' commands) ${(total - live).toFixed(1)} s`,
  );
  const rows = [...execs].sort((a, b) => b[1].n - a[1].n);
  console.log(
    `profile K=${k}: execs by the engine part that made them, per seat: ` +
      rows
        .map(([part, e]) => `${part} ${(e.n / k).toFixed(0)}${e.ms ? ` (${(e.ms / e.n).toFixed(0)} ms each)` : ''}`)
        .join(', '),
  );
}

/** The K where p95 crosses 2 s, by a straight line between the two K values around it (an estimate). */
function crossing(rows: RoomFigures[]): number | undefined {
  const sorted = [...rows].sort((a, b) => a.k - b.k);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (a.p95 <= 2000 && b.p95 > 2000) return Math.floor(a.k + ((2000 - a.p95) / (b.p95 - a.p95)) * (b.k - a.k));
  }
  return undefined;
}

async function main(): Promise<void> {
  if (PROFILE) countExecs();
  console.log(`workshop bench: lab ${LAB_ID}, steps 1–${STEPS}; K = ${KS.join(', ')}; load ${load()}`);
  const raw = await floor();
  const rawMs = median(raw);
  console.log(
    `floor: the same solutions by world.exec in a bare world: median ${rawMs.toFixed(0)} ms (load ${load()})`,
  );
  const rows: RoomFigures[] = [];
  for (const k of KS) {
    const f = await room(k);
    rows.push(f);
    console.log(
      `K=${k}: p50 ${f.p50.toFixed(0)} ms, p95 ${f.p95.toFixed(0)} ms (${(f.p95 / rawMs).toFixed(1)}× floor), max ${f.max.toFixed(0)} ms (median: the command ${f.ran.toFixed(0)} ms to its last output, then ${f.checked.toFixed(0)} ms to green); ` +
        `netview per seat: ${f.netviewReads} reads, ${f.netviewMarked} events only marked stale; ` +
        `per seat: world ${f.worldMiB.toFixed(0)} MiB (processes' PSS + its tmpfs), MemAvailable ${f.availMiB >= 0 ? '−' : '+'}${Math.abs(f.availMiB).toFixed(0)} MiB, engine ${f.engineMiB.toFixed(0)} MiB, ${f.processesPerSeat} processes (${f.threadsPerSeat} threads), ` +
        `${f.cpuSPerSeat.toFixed(2)} CPU-s for the 3 steps (of which the engine's share ${f.engineCpuS.toFixed(2)}, the rest in the world's processes); lab 10 opened in all ${k} seats in ${f.openAllS.toFixed(1)} s; load ${f.load}`,
    );
  }
  const ok = rows.filter((r) => r.p95 <= 2000).map((r) => r.k);
  const best = ok.length ? Math.max(...ok) : undefined;
  const over = rows.filter((r) => r.p95 > 2000 && (best === undefined || r.k > best)).map((r) => r.k);
  const est = crossing(rows);
  // a seat's memory: what its processes and tmpfs hold, or what the machine lost per seat (namespaces, page tables), whichever is more
  const perSeat = Math.max(...rows.map((r) => Math.max(r.worldMiB + Math.max(0, r.engineMiB), r.availMiB))) * MiB;
  const memK = Math.floor(memAvailable() / perSeat);
  // a seat's CPU for the steps grows with K (contention): the largest K's is what a full room costs
  const cpuBound = rows.reduce((a, r) => (r.k > a.k ? r : a)).cpuSPerSeat;
  const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  const threads = Math.max(...rows.map((r) => r.threadsPerSeat));
  const procK = Math.floor(pidMax / threads);
  console.log(
    `largest K measured with p95 ≤ 2 s: ${best ?? 'none'} (of ${KS.join(', ')})` +
      (over.length ? `; the largest K lies between ${best ?? 0} and ${Math.min(...over)}` : '') +
      (est !== undefined ? ` (≈ ${est} on a straight line between them)` : '') +
      `; memory would bind at K ≈ ${memK} (MemAvailable ${(memAvailable() / 2 ** 30).toFixed(1)} GiB of ${(totalmem() / 2 ** 30).toFixed(1)} GiB ÷ ${(perSeat / MiB).toFixed(0)} MiB a seat); ` +
      `processes at K ≈ ${procK} (pid_max ${pidMax} ÷ ${threads} threads a seat); ` +
      `CPU: ${cpuBound.toFixed(2)} CPU-s a seat for 3 steps at K=${Math.max(...KS)}, so 2 cores do ${Math.floor((2 / cpuBound) * 60)} seats' steps a minute`,
  );
  // memory or processes bind if they run out before the K where p95 passed 2 s; otherwise the cores do
  const at = est ?? best ?? 1;
  const bind =
    best !== undefined && best === Math.max(...KS)
      ? undefined
      : memK < at
        ? 'memory'
        : procK < at
          ? 'processes'
          : 'CPU';
  console.log(
    bind
      ? `the limit that binds: ${bind} (p95 passes 2 s before memory (K ≈ ${memK}) or processes (K ≈ ${procK}) run out${bind === 'CPU' ? ": the 2 cores are busy with the seats' steps" : ''})`
      : `every K run kept p95 ≤ 2 s: run a larger K to find the limit`,
  );
  console.log(`load at the end: ${load()}`);
  process.exit(0);
}

void main();
