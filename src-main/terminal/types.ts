// The terminal service's shape, as the API service uses it (implemented in terminal-service.ts).
import type { TerminalInfo, TerminalTarget } from '../api/contract.js';

export interface TerminalEvents {
  /** The pty's output as it came: bytes (UTF-8 from the shell), not decoded on the engine's side. */
  data: [{ id: string; data: Uint8Array }];
  exit: [{ id: string; code: number | null; signal: number | null }];
}

export interface TerminalHost {
  open(target: TerminalTarget, cols: number, rows: number): TerminalInfo;
  /** Starts shells ahead on these nodes, so a terminal opened there has its prompt at once (optional). */
  prepare?(nodes: string[]): void;
  input(id: string, data: string): void;
  resize(id: string, cols: number, rows: number): void;
  /** The renderer has parsed this many more bytes of the terminal's output. */
  ack(id: string, bytes: number): void;
  close(id: string): void;
  /** The terminal's recent output, bounded (scrollback.ts), for a view that attaches after it was written. */
  scrollback(id: string): Uint8Array;
  list(): TerminalInfo[];
  /** Ends every terminal and its processes. */
  dispose(): void;
  on<E extends keyof TerminalEvents>(event: E, listener: (...args: TerminalEvents[E]) => void): unknown;
}
