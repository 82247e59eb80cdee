// A file written so that a crash at any moment leaves the old content or the new, never a part, and
// the new content on disk once this returns: write a temporary file, fsync it, rename it over the
// old one, fsync the folder (the rename itself is only durable then).
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export interface AtomicWriteOptions {
  /** The temporary file, in the same folder (a rename does not cross file systems). */
  tmp: string;
  mode?: number;
}

export function writeFileAtomic(file: string, text: string, opts: AtomicWriteOptions): void {
  const fd = openSync(opts.tmp, 'wx', opts.mode ?? 0o644);
  try {
    const buf = Buffer.from(text, 'utf8');
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(opts.tmp, file);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      /* closed already */
    }
    rmSync(opts.tmp, { force: true });
    throw e;
  }
  syncDir(dirname(file));
}

/** Makes a folder's entries (a rename, a removal) durable. */
export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
