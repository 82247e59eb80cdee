// A bound on a whole world's memory, kept by the engine: RLIMIT_AS bounds each process, not the
// world (1000 processes × 4 GiB is no bound), and no cgroup is delegated to the user on every
// machine. Every tick it sums the memory of the world's processes from the engine's /proc and, over
// the limit, SIGKILLs the largest lab process (by PID, re-checked right before) and reports it.
import { EventEmitter } from 'node:events';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const MiB = 1024 ** 2;

/** One process of a world, as the engine's /proc shows it. */
export interface WorldProc {
  hostPid: number;
  ppid: number;
  /** Clock ticks since boot at which the process started: with the PID, who it is (PIDs are reused). */
  startTime: number;
  comm: string;
  /** Its PID namespace (the world's, or one a lab made inside it). */
  pidNs: string;
  /**
   * Resident memory: RSS from a cheap scan (shared pages counted in every process, so the sum is an
   * upper bound), or PSS (shared pages split among their users) from a precise one.
   */
  bytes: number;
}

export interface MemoryKill {
  hostPid: number;
  /** Its PID as the world's own `ps` shows it. */
  pid: number;
  comm: string;
  /** The process's command line (up to 200 characters), for the report. */
  cmd: string;
  bytes: number;
  /** The world's total when the watch acted. */
  totalBytes: number;
  limitBytes: number;
  message: string;
}

export interface MemoryWatchOptions {
  /** world-init's PID in the engine's PID namespace. */
  initHostPid: number;
  limitBytes: number;
  /** Engine-side PIDs never killed: world-init, world-confine, the node holders. */
  spared: () => number[];
  intervalMs?: number;
}

/** Fields of /proc/PID/stat after "(comm) ", and comm itself. */
export function readStat(pid: number | string): { comm: string; f: string[] } | undefined {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = st.lastIndexOf(')');
    return { comm: st.slice(st.indexOf('(') + 1, close), f: st.slice(close + 2).split(' ') };
  } catch {
    return undefined;
  }
}

let pageSize: number | undefined;
/** The kernel's page size (4 KiB on x86; 16 or 64 KiB on some arm64 machines), from our own smaps. */
function kernelPageSize(): number {
  if (pageSize === undefined) {
    const m = /^KernelPageSize:\s+(\d+) kB/m.exec(readFileSync('/proc/self/smaps', 'utf8'));
    pageSize = m ? Number(m[1]) * 1024 : 4096;
  }
  return pageSize;
}

/** PSS from smaps_rollup; VmRSS from status where smaps_rollup is not ours to read. 0 for a zombie. */
export function processMemory(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    /* not readable (or gone): try status */
  }
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** One row of the engine's /proc: what a world's watch needs of every process. */
interface ProcRow extends Omit<WorldProc, 'bytes'> {
  rss: number;
}

/** Every process the engine's /proc shows, with its parent, start, RSS and PID namespace. */
function scanProcs(): ProcRow[] {
  const all: ProcRow[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const st = readStat(d);
    if (!st) continue;
    try {
      all.push({
        hostPid: Number(d),
        ppid: Number(st.f[1]),
        startTime: Number(st.f[19]),
        rss: Number(st.f[21]) * kernelPageSize(),
        comm: st.comm,
        pidNs: readlinkSync(`/proc/${d}/ns/pid`),
      });
    } catch {
      /* gone, or not ours to read */
    }
  }
  return all;
}

let shared: { at: number; rows: ProcRow[] } | undefined;
/**
 * The scan the watches of one engine share: a workshop's engine holds a world per seat, and their watches
 * tick on the same clock (below), so one read of /proc serves them all instead of one per world.
 */
function sharedScan(): ProcRow[] {
  const now = performance.now();
  if (!shared || now - shared.at > SHARED_SCAN_MS) shared = { at: now, rows: scanProcs() };
  return shared.rows;
}
/** How old a shared scan may be: well under a tick, so each tick still sees the world anew. */
const SHARED_SCAN_MS = 50;

/**
 * Every process of a world: those in its PID namespace (world-init's children, and terminals that
 * entered it with nsenter), and their descendants in PID namespaces a lab made inside it.
 */
export function worldProcesses(initHostPid: number, precise = true, rows: ProcRow[] = scanProcs()): WorldProc[] {
  const worldNs = readlinkSync(`/proc/${initHostPid}/ns/pid`);
  const members = new Set(rows.filter((p) => p.pidNs === worldNs).map((p) => p.hostPid));
  // a nested PID namespace's processes descend from a world process (unshare -p in a terminal)
  for (let grew = true; grew;) {
    grew = false;
    for (const p of rows) {
      if (!members.has(p.hostPid) && members.has(p.ppid)) {
        members.add(p.hostPid);
        grew = true;
      }
    }
  }
  return rows
    .filter((p) => members.has(p.hostPid))
    .map(({ rss, ...p }) => ({ ...p, bytes: precise ? processMemory(p.hostPid) : rss }));
}

export function formatBytes(n: number): string {
  return n >= 1024 ** 3 && n % 1024 ** 3 === 0 ? `${n / 1024 ** 3} GiB` : `${Math.round(n / MiB)} MiB`;
}

/** A process's PID in its own PID namespace (the last of NSpid). */
function innerPid(hostPid: number): number {
  try {
    const m = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${hostPid}/status`, 'utf8'));
    return Number(m?.[1]!.trim().split(/\s+/).at(-1) ?? hostPid);
  } catch {
    return hostPid;
  }
}

function cmdline(pid: number, comm: string): string {
  try {
    const c = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0+$/, '').replace(/\0/g, ' ');
    return (c || comm).slice(0, 200);
  } catch {
    return comm;
  }
}

/** Below this a process is a bystander (a pod's pause, well under 1 MiB; a shell about 1 MiB): killing it frees nothing. */
export const VICTIM_FLOOR = 4 * MiB;

/** Chooses whom to kill when the world is over its limit: the largest process not spared and not a bystander. */
export function chooseVictim(procs: WorldProc[], spared: Set<number>): WorldProc | undefined {
  const floor = VICTIM_FLOOR;
  return procs.filter((p) => !spared.has(p.hostPid) && p.bytes >= floor).sort((a, b) => b.bytes - a.bytes)[0];
}

/** A delay of at least `ms` that ends on a multiple of `interval`: the watches of every world tick together. */
function alignedDelay(ms: number, interval: number): number {
  const now = Date.now();
  return Math.ceil((now + ms) / interval) * interval - now;
}

export class MemoryWatch extends EventEmitter<{ kill: [MemoryKill]; over: [{ totalBytes: number; message: string }] }> {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The last kill, until the process is gone: the next tick waits for its memory to be freed. */
  private pending: { hostPid: number; startTime: number; at: number } | undefined;
  /** Set while the world is over its limit with no process to blame (reported once). */
  private overReported = false;
  /** The world's memory at the last tick. */
  lastTotal = 0;
  readonly kills: MemoryKill[] = [];
  private readonly intervalMs: number;

  constructor(private readonly opts: MemoryWatchOptions) {
    super();
    this.intervalMs = opts.intervalMs ?? 250;
  }

  start(): this {
    this.schedule(this.intervalMs);
    return this;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(
      () => {
        const t0 = performance.now();
        try {
          this.tick();
        } catch {
          // world-init is gone: the world is ending, and destroy() stops the watch
        }
        // a world of a thousand processes takes longer to read: never more than a fifth of a core
        this.schedule(Math.max(this.intervalMs, 4 * (performance.now() - t0)));
      },
      alignedDelay(ms, this.intervalMs),
    );
    this.timer.unref();
  }

  /** One look at the world; kills at most one process. Public for tests. */
  tick(): MemoryKill | undefined {
    const { limitBytes } = this.opts;
    // RSS from stat first (cheap); PSS (smaps_rollup, dearer with a thousand processes) only near the limit
    let procs = worldProcesses(this.opts.initHostPid, false, sharedScan());
    let total = procs.reduce((s, p) => s + p.bytes, 0);
    if (limitBytes > 0 && total > limitBytes) {
      procs = worldProcesses(this.opts.initHostPid, true);
      total = procs.reduce((s, p) => s + p.bytes, 0);
    }
    this.lastTotal = total;
    if (this.pending) {
      const p = this.pending;
      const still = procs.find((q) => q.hostPid === p.hostPid && q.startTime === p.startTime && q.bytes > 0);
      // its memory is freed as it exits; one stuck in the kernel (D state) may take longer: 2 s, then judge again
      if (still && performance.now() - p.at < 2000) return undefined;
      this.pending = undefined;
    }
    if (limitBytes <= 0 || total <= limitBytes) {
      this.overReported = false;
      return undefined;
    }
    const spared = new Set([this.opts.initHostPid, ...this.opts.spared()]);
    const victim = chooseVictim(procs, spared);
    const limit = formatBytes(limitBytes);
    if (!victim) {
      if (this.overReported) return undefined;
      this.overReported = true;
      this.emit('over', {
        totalBytes: total,
        message: `lab world memory limit ${limit} reached (${formatBytes(total)} in use) spread over many small processes (none over ${formatBytes(VICTIM_FLOOR)}): end some, or reset the world`,
      });
      return undefined;
    }
    const cmd = cmdline(victim.hostPid, victim.comm);
    const pid = innerPid(victim.hostPid);
    // the PID may have been reused since the scan: kill only the same process, still in the world
    const now = readStat(victim.hostPid);
    let nsNow: string | undefined;
    try {
      nsNow = readlinkSync(`/proc/${victim.hostPid}/ns/pid`);
    } catch {
      return undefined;
    }
    if (!now || Number(now.f[19]) !== victim.startTime || nsNow !== victim.pidNs) return undefined;
    try {
      process.kill(victim.hostPid, 'SIGKILL');
    } catch {
      return undefined; // it ended on its own
    }
    this.pending = { hostPid: victim.hostPid, startTime: victim.startTime, at: performance.now() };
    const kill: MemoryKill = {
      hostPid: victim.hostPid,
      pid,
      comm: victim.comm,
      cmd,
      bytes: victim.bytes,
      totalBytes: total,
      limitBytes,
      message: `lab world memory limit ${limit} reached: killed pid ${pid} (${cmd}) using ${formatBytes(victim.bytes)}`,
    };
    this.kills.push(kill);
    this.emit('kill', kill);
    return kill;
  }
}
