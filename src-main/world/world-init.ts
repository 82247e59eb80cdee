// The engine's side of world-init's protocol (see native/world-init.c): spawn commands inside
// the world, stream their output, and hold the lifeline whose EOF ends the world.
import { KeptOutput } from './kept-output.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { constants as osConstants } from 'node:os';

const EAGAIN = osConstants.errno.EAGAIN;

const enum Flag {
  NewNet = 1,
  NewMount = 2,
  StdinPipe = 4,
  NewUts = 8,
  StdinInline = 16,
}
/** Below a pipe's capacity: world-init writes inline stdin at once, and the command never waits for it. */
const MAX_INLINE_STDIN = 60 * 1024;
const enum Join {
  Mount = 1,
  Net = 2,
  Uts = 4,
}

/** Where a command runs, in world-init's terms: namespaces to enter, or to create. */
export interface NsPlacement {
  /** A world process (inner PID) whose namespaces to enter. */
  nsPid?: number;
  joinMount?: boolean;
  joinNet?: boolean;
  joinUts?: boolean;
  /** A pinned network namespace, resolved in the (joined) mount namespace. */
  netPath?: string;
  newNet?: boolean;
  newMount?: boolean;
  newUts?: boolean;
}

export interface SpawnRequest extends NsPlacement {
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
  stdin?: boolean;
  /** Small stdin sent with the request itself (saves a round trip before the command can read it). */
  inlineStdin?: Buffer;
}

export interface ExitStatus {
  /** Exit code, or null when ended by a signal. */
  code: number | null;
  signal: number | null;
}

/** Bounds every process of a world inherits from world-init (0: unbounded). */
export interface WorldLimits {
  /** Bytes the world may write, all of it (its root is one tmpfs of this size). */
  diskBytes: number;
  /** Processes of the world at once (RLIMIT_NPROC, and the PID namespace's pid_max). */
  processes: number;
  /** Address space of each process of the world (RLIMIT_AS), in bytes. */
  memoryBytes: number;
  /** Memory of the whole world, in bytes: kept by the engine (memory-watch.ts), not by world-init. */
  worldMemoryBytes: number;
}

/** What world.exec keeps of each stream of a command (the rest is counted and said, not kept). */
export const EXEC_OUTPUT_LIMIT = 64 * 1024 ** 2;

/** The namespaces of a world, as `unshare` makes them: user (its root is the user), network, mount, PID. */
export const WORLD_NAMESPACES = ['--user', '--map-root-user', '--net', '--mount', '--pid', '--fork'] as const;

export class WorldInitError extends Error {
  constructor(
    message: string,
    readonly errno?: number,
  ) {
    super(message);
    this.name = 'WorldInitError';
  }
}

/** A process running inside the world. */
export class WorldProcess extends EventEmitter<{ stdout: [Buffer]; stderr: [Buffer] }> {
  /** PID inside the world's PID namespace. */
  pid = 0;
  readonly started: Promise<number>;
  readonly exited: Promise<ExitStatus>;
  private resolveStart!: (pid: number) => void;
  private rejectStart!: (e: Error) => void;
  private resolveExit!: (s: ExitStatus) => void;
  private done = false;

  constructor(
    readonly id: number,
    private readonly channel: WorldInit,
  ) {
    super();
    this.started = new Promise((res, rej) => {
      this.resolveStart = res;
      this.rejectStart = rej;
    });
    this.exited = new Promise((res) => (this.resolveExit = res));
    this.started.catch(() => {});
  }

  write(data: string | Buffer): void {
    if (!this.done) this.channel.send('I', this.id, typeof data === 'string' ? Buffer.from(data) : data);
  }
  end(): void {
    if (!this.done) this.channel.send('C', this.id);
  }
  kill(signal: number = 15): void {
    if (this.done) return;
    const b = Buffer.alloc(4);
    b.writeUInt32LE(signal);
    this.channel.send('K', this.id, b);
  }
  get hasExited(): boolean {
    return this.done;
  }

  /** @internal */ onStarted(pid: number): void {
    this.pid = pid;
    this.resolveStart(pid);
  }
  /** @internal */ onFailed(err: WorldInitError): void {
    this.done = true;
    this.rejectStart(err);
    this.resolveExit({ code: 127, signal: null });
  }
  /** @internal */ onExit(s: ExitStatus): void {
    this.done = true;
    // the world ended between the request and its 'P': whoever awaits the start must not wait forever
    if (!this.pid) this.rejectStart(new WorldInitError('the world ended before the command started'));
    this.resolveExit(s);
  }
}

export interface ExecOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  /** Signal sent at the timeout; SIGKILL follows after a short grace. */
  timeoutSignal?: number;
  /** How much of each stream is kept (EXEC_OUTPUT_LIMIT where not given). */
  maxOutputBytes?: number;
}

export interface ExecResult extends ExitStatus {
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export function worldInitBinary(): string {
  return nativeBinary('world-init');
}

/** A native helper (src-main/world/native; pty-exec: src-main/terminal/native), as scripts/build-native.mjs built it. */
export function nativeBinary(name: 'world-init' | 'pause' | 'container-init' | 'pty-exec' | 'node-holder'): string {
  const here = dirname(fileURLToPath(import.meta.url));
  // src-main/world → out/native, or out/src-main/world → out/native
  for (const p of [join(here, `../../out/native/${name}`), join(here, `../../native/${name}`)]) {
    if (existsSync(p)) return p;
  }
  throw new WorldInitError(
    `${name} is not built: run "npm run build" (it needs a C compiler: apt-get install build-essential)`,
  );
}

/** What the world's root is built from (world-init's --ro, --rw, --hide, --hide-file). */
export interface RootSpec {
  /** Host folders the world sees read-only, at their paths (beyond /usr, /etc, /bin, /sbin, /lib*). */
  readOnly: string[];
  /** Host folders the world may write, at their paths (a lab's working folder). */
  writable: string[];
  /** Folders of /etc shown empty, and files shown empty. */
  hideDirs: string[];
  hideFiles: string[];
  /** Folders the nodes mount over, made in the world where the host lacks them (/etc/cni/net.d). */
  mkdirs: string[];
  /** The world's id: on world-init's command line as "/ID", so the host's process list tells worlds apart. */
  id: string;
}

/** What init may send, with the least payload each carries. */
const FROM_INIT: Record<string, number> = { R: 4, P: 4, O: 0, E: 0, X: 8, F: 4 };
/** Longer than any frame init sends (its output frames carry at most 64 KiB). */
const MAX_FRAME = 16 * 1024 * 1024;

/** The channel to one world's init process. */
export class WorldInit extends EventEmitter<{ exit: [ExitStatus] }> {
  private nextId = 1;
  private readonly procs = new Map<number, WorldProcess>();
  private buf: Buffer = Buffer.alloc(0);
  private onReady: (holderPid: number) => void = () => {};
  /** Inner PID of the world's holder, whose nested user, mount and network namespaces every command joins. */
  holderPid = 0;
  /** Frames from init that were dropped, with why (a bad frame never throws in the engine). */
  readonly dropped: string[] = [];
  private closed = false;
  private stderrText = '';
  /** When a request last failed with EAGAIN: the world was at its process limit then (performance.now()). */
  processLimitHitAt: number | undefined;
  readonly exited: Promise<ExitStatus>;

  private constructor(private readonly child: ChildProcess) {
    super();
    this.exited = new Promise((res) => {
      // 'close', not 'exit': every frame init wrote before it ended is read first (a command's 'P' or 'X')
      child.on('close', (code, sig) => {
        this.closed = true;
        const s: ExitStatus = { code, signal: sig ? 9 : null };
        for (const p of this.procs.values()) p.onExit({ code: null, signal: 9 });
        this.procs.clear();
        this.emit('exit', s);
        res(s);
      });
    });
  }

  /** Starts world-init as PID 1 of new user, network, mount and PID namespaces, with the world's limits. */
  static async start(
    root: RootSpec,
    limits: WorldLimits = { processes: 0, memoryBytes: 0, worldMemoryBytes: 0, diskBytes: 0 },
  ): Promise<WorldInit> {
    const bin = worldInitBinary();
    const paths = (flag: string, list: string[]) => list.flatMap((p) => [flag, p]);
    const child = spawn(
      'unshare',
      [
        ...WORLD_NAMESPACES,
        '--mount-proc',
        '--kill-child',
        bin,
        String(limits.processes),
        String(limits.memoryBytes),
        String(limits.diskBytes),
        ...paths('--ro', root.readOnly),
        ...paths('--rw', root.writable),
        ...paths('--hide', root.hideDirs),
        ...paths('--hide-file', root.hideFiles),
        ...paths('--mkdir', root.mkdirs),
        '--world',
        `/${root.id}`,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' } },
    );
    const init = new WorldInit(child);
    child.stderr.on('data', (d: Buffer) => {
      if (init.stderrText.length < 4096) init.stderrText += d.toString();
    });
    // A write after the world died must not crash the engine.
    child.stdin.on('error', () => {});
    const ready = new Promise<void>((resolve, reject) => {
      init.onReady = (holderPid) => {
        init.holderPid = holderPid;
        resolve();
      };
      child.on('error', (e) => reject(new WorldInitError(`cannot start the world sandbox (unshare): ${e.message}`)));
      void init.exited.then((s) =>
        reject(
          new WorldInitError(
            `the world sandbox exited before it was ready (code ${s.code ?? 'signal'}): ${init.stderrText.trim() || 'no message'}`,
          ),
        ),
      );
    });
    child.stdout.on('data', (d: Buffer) => init.onData(d));
    await ready;
    return init;
  }

  /** PID (in the engine's PID namespace) of `unshare`, the world's outer process. */
  get outerPid(): number | undefined {
    return this.child.pid;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  spawn(req: SpawnRequest): WorldProcess {
    const id = this.nextId++;
    const proc = new WorldProcess(id, this);
    if (this.closed) {
      proc.onFailed(new WorldInitError('the world has ended'));
      return proc;
    }
    this.procs.set(id, proc);
    let flags = 0;
    if (req.newNet) flags |= Flag.NewNet;
    if (req.newMount) flags |= Flag.NewMount;
    if (req.newUts) flags |= Flag.NewUts;
    if (req.stdin) flags |= Flag.StdinPipe;
    if (req.inlineStdin) flags |= Flag.StdinInline;
    let join = 0;
    if (req.joinMount) join |= Join.Mount;
    if (req.joinNet) join |= Join.Net;
    if (req.joinUts) join |= Join.Uts;
    const parts: Buffer[] = [];
    const u32 = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(n >>> 0);
      parts.push(b);
    };
    const str = (s: string) => {
      if (s.includes('\0')) throw new WorldInitError('a command argument contains a NUL byte');
      parts.push(Buffer.from(s + '\0'));
    };
    u32(flags);
    u32(req.nsPid ?? 0);
    u32(join);
    str(req.netPath ?? '');
    str(req.cwd ?? '');
    u32(req.argv.length);
    req.argv.forEach(str);
    const env = Object.entries(req.env);
    u32(env.length);
    for (const [k, v] of env) str(`${k}=${v}`);
    if (req.inlineStdin) {
      u32(req.inlineStdin.length);
      parts.push(req.inlineStdin);
    }
    this.send('S', id, Buffer.concat(parts));
    return proc;
  }

  /** Runs a command to completion and collects its output. */
  async exec(req: SpawnRequest, opts: ExecOptions = {}): Promise<ExecResult> {
    const t0 = performance.now();
    const input = opts.input === undefined ? undefined : Buffer.from(opts.input);
    const inline = input && input.length <= MAX_INLINE_STDIN ? input : undefined;
    const proc = this.spawn({
      ...req,
      stdin: input !== undefined && !inline,
      ...(inline ? { inlineStdin: inline } : {}),
    });
    // each stream is kept up to a bound: a command that prints without end must not fill the engine
    const limit = opts.maxOutputBytes ?? EXEC_OUTPUT_LIMIT;
    const out = new KeptOutput(limit);
    const err = new KeptOutput(limit);
    proc.on('stdout', (d) => out.push(d));
    proc.on('stderr', (d) => err.push(d));
    await proc.started;
    if (input && !inline) {
      proc.write(input);
      proc.end();
    }
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) {
      timer = setTimeout(() => {
        timedOut = true;
        proc.kill(opts.timeoutSignal ?? 9);
        killTimer = setTimeout(() => proc.kill(9), 1000);
      }, opts.timeoutMs);
    }
    const s = await proc.exited;
    clearTimeout(timer);
    clearTimeout(killTimer);
    return {
      ...s,
      stdout: out.text(),
      stderr: err.text(),
      timedOut,
      durationMs: performance.now() - t0,
    };
  }

  /** Closes the lifeline: world-init kills every process of the world and removes its state. */
  async close(): Promise<ExitStatus> {
    if (!this.closed) this.child.stdin!.end();
    return this.exited;
  }

  /** @internal */ send(type: 'S' | 'I' | 'C' | 'K' | 'Q', id: number, payload: Buffer = Buffer.alloc(0)): void {
    if (this.closed) return;
    const hdr = Buffer.alloc(9);
    hdr.writeUInt32LE(payload.length + 5, 0);
    hdr.write(type, 4, 'latin1');
    hdr.writeUInt32LE(id, 5);
    this.child.stdin!.write(payload.length ? Buffer.concat([hdr, payload]) : hdr);
  }

  /** A frame init should not have sent: dropped and logged, never thrown (the world's side is not trusted). */
  private drop(why: string): void {
    if (this.dropped.length < 100) this.dropped.push(why);
    console.warn(`podnet: dropped a frame from world-init: ${why}`);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    let off = 0;
    while (this.buf.length - off >= 9) {
      const len = this.buf.readUInt32LE(off);
      if (len < 5 || len > MAX_FRAME) {
        // the stream cannot be followed past this: the world is lost, the engine is not
        this.drop(`a frame of length ${len}: ending the world`);
        this.buf = Buffer.alloc(0);
        this.child.kill('SIGKILL');
        return;
      }
      if (this.buf.length - off - 4 < len) break;
      const type = String.fromCharCode(this.buf[off + 4]!);
      const id = this.buf.readUInt32LE(off + 5);
      const payload = this.buf.subarray(off + 9, off + 4 + len);
      off += 4 + len;
      this.onFrame(type, id, payload);
    }
    this.buf = off === this.buf.length ? Buffer.alloc(0) : this.buf.subarray(off);
  }

  private onFrame(type: string, id: number, payload: Buffer): void {
    const least = FROM_INIT[type];
    if (least === undefined) return this.drop(`unknown kind 0x${type.charCodeAt(0).toString(16)} (id ${id})`);
    if (payload.length < least)
      return this.drop(`'${type}' with ${payload.length} bytes, fewer than ${least} (id ${id})`);
    if (type === 'R') {
      if (id !== 0) return this.drop(`'R' for id ${id}`);
      this.onReady(payload.readUInt32LE(0));
      return;
    }
    const proc = this.procs.get(id);
    if (!proc) return this.drop(`'${type}' for id ${id}, which is no running command`);
    switch (type) {
      case 'P':
        if (proc.pid) return this.drop(`a second 'P' for id ${id}`);
        this.processLimitHitAt = undefined; // something could start: the world is not full now
        proc.onStarted(payload.readUInt32LE(0));
        break;
      case 'O':
        proc.emit('stdout', Buffer.from(payload));
        break;
      case 'E':
        proc.emit('stderr', Buffer.from(payload));
        break;
      case 'X': {
        const code = payload.readInt32LE(0);
        const sig = payload.readInt32LE(4);
        this.procs.delete(id);
        proc.onExit({ code: code < 0 ? null : code, signal: code < 0 ? sig : null });
        break;
      }
      case 'F': {
        const errno = payload.readInt32LE(0);
        const msg = payload.subarray(4).toString().replace(/\0.*$/s, '');
        if (errno === EAGAIN) this.processLimitHitAt = performance.now();
        this.procs.delete(id);
        proc.onFailed(new WorldInitError(msg, errno));
        break;
      }
    }
  }
}
