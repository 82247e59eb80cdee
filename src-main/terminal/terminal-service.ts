// Terminals into the world: a pty on the engine's side running `pty-exec … bash`, so the shell lives
// in the sandbox, on a node, or in a pod's network namespace. Output (bytes) is merged over 5 ms and held
// back by flow control (flow-control.ts); closing a terminal ends every process of its session.
// Each shell starts through pty-exec (native/pty-exec.c): it enters the world and holds no other terminal's pty master;
// where the engine keeps one waiting ahead (pty-reserve.ts), a shell takes it instead of forking the engine.
// The engine keeps each terminal's recent output (Scrollback), so a reloaded page shows it again, and
// holds input typed before the shell's first prompt (PromptGate), so it is echoed once, not twice.
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import * as pty from 'node-pty';
import type { TerminalInfo, TerminalTarget } from '../api/contract.js';
import type { Target, World } from '../world/world.js';
import { DataBuffer, FlowController } from './flow-control.js';
import { killSession } from './kill-session.js';
import { AHEAD_COLS, AHEAD_ROWS, PtyReserve } from './pty-reserve.js';
import { PromptGate, Scrollback } from './scrollback.js';
import { PtyTail } from './pty-tail.js';
import type { TerminalHost } from './types.js';

/** Open terminals at once (each is a pty and a shell): beyond it, open() refuses with a clear error. */
export const MAX_TERMINALS = 32;

/** Shells started ahead (prepare): on this many nodes at most, each one shell and its pty-exec in the world. */
const SPARE_SHELLS = 2;
/** How long after a spare is taken the next one starts (the engine's fork waits until the prompt is out). */
const SPARE_RESTART_MS = 300;

/** A shell started ahead, with what it wrote before it was taken. */
interface Spare {
  proc: pty.IPty;
  held: Uint8Array[];
  subs: pty.IDisposable[];
}

interface Term {
  info: TerminalInfo;
  proc: pty.IPty;
  flow: FlowController;
  out: DataBuffer;
  scrollback: Scrollback;
  gate: PromptGate;
  /** Keeps the shell's last output when it exits (pty-tail.ts). */
  tail: PtyTail;
  subs: pty.IDisposable[];
}

/** A pod by name: its node, its netns pin, and its pause (whose mounts hold the pod's /etc/resolv.conf). */
export type PodResolver = (name: string) => { node: string; netns: string; sandboxPid?: number } | undefined;

/**
 * An engine's terminals, as a host gives them to createEngine: each world's TerminalService, and one
 * process kept waiting ahead of the next shell (pty-reserve.ts), which the engine ends with itself.
 */
export function engineTerminals(): {
  terminals: (world: World, resolvePod: PodResolver) => TerminalService;
  ptyReserve: PtyReserve;
} {
  const ptyReserve = new PtyReserve();
  return { terminals: (world, resolvePod) => new TerminalService(world, resolvePod, ptyReserve), ptyReserve };
}

export class TerminalService extends EventEmitter implements TerminalHost {
  private readonly terms = new Map<string, Term>();
  private seq = 0;
  /** Nodes that keep a shell started ahead, and those shells by node. */
  private readonly spareNodes = new Set<string>();
  private readonly spares = new Map<string, Spare>();
  private disposed = false;

  constructor(
    private readonly world: World,
    private readonly resolvePod: PodResolver,
    /** The engine's process waiting ahead, which a shell takes before it forks its own. */
    private readonly reserve?: PtyReserve,
  ) {
    super();
  }

  /**
   * Starts a shell ahead on each of these nodes (the first SPARE_SHELLS), so that opening a terminal
   * there finds it at its prompt: the engine's fork (node-pty forks the whole engine) and the shell's
   * start are off the request's path. One is started again after each is taken.
   */
  prepare(nodes: string[]): void {
    // one fork at a time: each holds the engine's thread for a moment
    nodes.slice(0, SPARE_SHELLS).forEach((n, i) => {
      // prepared already (free play prepares node1 as soon as the world exists): its own restarts keep it
      if (this.spareNodes.has(n)) return;
      this.spareNodes.add(n);
      if (i === 0) this.startSpare(n);
      else setTimeout(() => this.startSpare(n), i * SPARE_RESTART_MS).unref();
    });
  }

  open(target: TerminalTarget, cols: number, rows: number): TerminalInfo {
    const { where, title } = this.resolve(target);
    // an exited terminal counts until it is closed: its pty is held until then
    const open = this.terms.size;
    if (open >= MAX_TERMINALS)
      throw new Error(
        `cannot open another terminal: ${open} are open, the most there may be is ${MAX_TERMINALS}; close one first`,
      );
    const spare = target.kind === 'node' ? this.takeSpare(target.node) : undefined;
    const proc = spare?.proc ?? this.spawnShell(where, title, cols, rows);
    if (spare && (cols !== AHEAD_COLS || rows !== AHEAD_ROWS)) proc.resize(cols, rows);
    const id = `t${++this.seq}`;
    const info: TerminalInfo = { id, title, target, exited: false };
    const scrollback = new Scrollback();
    const out = new DataBuffer((data) => {
      scrollback.push(data);
      this.emit('data', { id, data });
    });
    const flow = new FlowController();
    const tail = new PtyTail(proc);
    const gate = new PromptGate((held) => proc.write(held));
    const onData = (chunk: string | Uint8Array) => {
      const data = chunk as unknown as Uint8Array; // node-pty types onData as string; with encoding null it is a Buffer
      const beforePrompt = !gate.isOpen;
      gate.output(data);
      out.push(data);
      // the shell's first prompt goes out at once, not after the merge window: someone is waiting for it
      if (beforePrompt && gate.isOpen) out.flush();
      if (flow.sent(data.length)) {
        proc.pause();
        tail.paused();
        // nothing more comes until the renderer acks: send what is held now, not after the merge window
        out.flush();
      }
    };
    const subs = [
      proc.onData(onData),
      proc.onExit(({ exitCode, signal }) => {
        tail.release();
        gate.dispose();
        out.flush();
        info.exited = true;
        this.emit('exit', { id, code: signal ? null : exitCode, signal: signal || null });
      }),
    ];
    this.terms.set(id, { info, proc, flow, out, scrollback, gate, tail, subs });
    if (spare) {
      // what the shell wrote while it waited (its prompt), in order, before anything it writes from now
      for (const c of spare.held) onData(c);
      // another one for the next terminal there, once this one's prompt is on its way
      setTimeout(() => this.startSpare(target.kind === 'node' ? target.node : ''), SPARE_RESTART_MS).unref();
    }
    return { ...info };
  }

  /** Starts a terminal's shell in a pty: pty-exec enters the world (limits, namespaces), then bash. */
  private spawnShell(where: Target, title: string, cols: number, rows: number): pty.IPty {
    const shell = existsSync('/bin/bash') ? ['bash', '--noprofile', '--norc', '-i'] : ['sh', '-i'];
    // pty-exec also holds none of the engine's other pty masters, which are not close-on-exec (node-pty forks from here)
    const argv = [...this.world.enterArgv(where), ...shell];
    const env = {
      ...this.world.envFor(where),
      TERM: 'xterm-256color',
      COLORTERM: 'truecolor',
      // bash --norc reads no file that would set PS1, so this one stays
      PS1: `root@${title}:\\w# `,
    };
    const ahead = this.reserve?.take(argv, env, cols, rows);
    if (ahead) return ahead;
    // cwd is the engine's; entering the world's mount namespace moves the shell to the world's "/"
    // encoding null: the output stays bytes all the way to xterm, never decoded and re-encoded here
    return pty.spawn(argv[0]!, argv.slice(1), {
      name: 'xterm-256color',
      cols,
      rows,
      cwd: '/',
      env,
      encoding: null,
    });
  }

  /** A shell started ahead on a node (prepare), unless the node has none or the world cannot start it now. */
  private startSpare(node: string): void {
    if (!this.spareNodes.has(node) || this.spares.has(node) || this.disposed || !this.world.alive) return;
    if (!this.world.nodes.has(node)) return;
    let proc: pty.IPty;
    try {
      proc = this.spawnShell({ kind: 'node', node }, node, AHEAD_COLS, AHEAD_ROWS);
    } catch {
      return; // a terminal opened there starts its own shell, and says what is wrong
    }
    const spare: Spare = { proc, held: [], subs: [] };
    spare.subs.push(
      proc.onData((d) => void spare.held.push(d as unknown as Uint8Array)),
      // a shell that ended before it was taken (a kill -9 -1 in the world) is not handed out
      proc.onExit(() => {
        if (this.spares.get(node) === spare) this.spares.delete(node);
        for (const s of spare.subs) s.dispose();
      }),
    );
    this.spares.set(node, spare);
  }

  private takeSpare(node: string): Spare | undefined {
    const spare = this.spares.get(node);
    if (!spare) return undefined;
    this.spares.delete(node);
    for (const s of spare.subs) s.dispose();
    return spare;
  }

  input(id: string, data: string): void {
    const t = this.get(id);
    if (!t.info.exited) t.gate.input(data);
  }

  /** The terminal's recent output (at most SCROLLBACK_BYTES, from a line's start), for a view that attaches late. */
  scrollback(id: string): Uint8Array {
    return this.get(id).scrollback.snapshot();
  }

  resize(id: string, cols: number, rows: number): void {
    const t = this.get(id);
    if (!t.info.exited) t.proc.resize(cols, rows);
  }

  ack(id: string, bytes: number): void {
    // an ack may cross a close on the way: nothing to do then
    const t = this.terms.get(id);
    if (t && t.flow.ack(bytes)) {
      t.tail.resumed();
      t.proc.resume();
    }
  }

  close(id: string): void {
    const t = this.terms.get(id);
    if (!t) return;
    this.terms.delete(id);
    for (const s of t.subs) s.dispose();
    t.out.dispose();
    t.gate.dispose();
    t.tail.release();
    // let node-pty read to the end so it can release the pty once the processes are gone
    if (t.flow.isPaused) t.proc.resume();
    killSession(t.proc.pid);
  }

  list(): TerminalInfo[] {
    return [...this.terms.values()].map((t) => ({ ...t.info }));
  }

  /** The engine-side PID of a terminal's pty process (pty-exec, the shell's parent), for diagnostics and tests. */
  pid(id: string): number {
    return this.get(id).proc.pid;
  }

  /** The terminal's pty (/dev/pts/N on the engine's side), for diagnostics and tests. */
  ptyName(id: string): string {
    return (this.get(id).proc as unknown as { ptsName: string }).ptsName;
  }

  dispose(): void {
    this.disposed = true;
    for (const node of [...this.spares.keys()]) {
      const spare = this.takeSpare(node)!;
      killSession(spare.proc.pid);
    }
    for (const id of [...this.terms.keys()]) this.close(id);
  }

  private get(id: string): Term {
    const t = this.terms.get(id);
    if (!t) throw new Error(`no terminal "${id}" (open: ${[...this.terms.keys()].join(', ') || 'none'})`);
    return t;
  }

  private resolve(target: TerminalTarget): { where: Target; title: string } {
    if (!this.world.alive) throw new Error('the world has ended: start it to open a terminal');
    if (target.kind === 'sandbox') return { where: { kind: 'sandbox' }, title: 'sandbox' };
    if (target.kind === 'node') {
      if (!this.world.nodes.has(target.node)) {
        throw new Error(
          `cannot open a terminal on node "${target.node}": no such node (nodes: ${[...this.world.nodes.keys()].join(', ')})`,
        );
      }
      return { where: { kind: 'node', node: target.node }, title: target.node };
    }
    const pod = this.resolvePod(target.pod);
    if (!pod) throw new Error(`cannot open a terminal in pod "${target.pod}": no such pod`);
    if (!this.world.nodes.has(pod.node))
      throw new Error(`cannot open a terminal in pod "${target.pod}": its node "${pod.node}" is not in the world`);
    return {
      where: {
        kind: 'pod',
        node: pod.node,
        netns: pod.netns,
        ...(pod.sandboxPid ? { sandboxPid: pod.sandboxPid } : {}),
      },
      title: `pod/${target.pod}`,
    };
  }
}
