// What the CNI code needs of a folder: its files by name, read and written without the caller
// knowing how. The engine passes one that never follows a link in a lab world (fs/beneath.ts).
import type { Stats } from 'node:fs';

export interface FolderFiles {
  /** A path as messages name it. */
  shown(rel?: string): string;
  readFile(rel: string, opts?: { maxBytes?: number }): string;
  /** The names in a folder, or none when it does not exist. */
  readdirIfExists(rel?: string): string[];
  writeFileAtomic(rel: string, text: string, opts?: { mode?: number; durable?: boolean }): void;
  mkdirp(rel: string, mode?: number): void;
  unlink(rel: string, opts?: { force?: boolean }): void;
  lstat(rel: string): Stats | undefined;
}

/** Whether an error is a folder's refusal to follow a link (or use a path), not a plain I/O failure. */
export const isRefusal = (e: unknown): boolean => e instanceof Error && e.name === 'BeneathError';
