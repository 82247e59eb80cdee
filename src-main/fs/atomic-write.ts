// A file written so that a crash at any moment leaves the old content or the new, never a part, and
// the new content on disk once this returns: write a temporary file, fsync it, rename it over the
// old one, fsync the folder (the rename itself is only durable then). A writer killed before its
// rename leaves its temporary file; the next write of the same file removes it.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isAlive } from '../world/procfs.js';

export interface AtomicWriteOptions {
  mode?: number;
}

/**
 * The temporary file for `file`: a dot name in the same folder (a rename does not cross file
 * systems; a CNI loader skips it: no config extension), with the writer's PID, so a later write can
 * tell a dead writer's leftover from a live writer's file.
 */
export function tempPath(file: string, pid = process.pid): string {
  return join(dirname(file), `.${basename(file)}.${pid}-${randomBytes(4).toString('hex')}.tmp`);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Removes the temporary files of `file` left by writers that were killed: a dead PID's, and this
 * process's own (its writes are synchronous, so none of its own is in flight). Returns their names.
 */
export function removeStaleTemps(file: string): string[] {
  const re = new RegExp(`^\\.${escapeRe(basename(file))}\\.(\\d+)-[0-9a-f]{8}\\.tmp$`);
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dirname(file));
  } catch {
    return removed;
  }
  for (const n of names) {
    const m = re.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && isAlive(pid)) continue;
    rmSync(join(dirname(file), n), { force: true });
    removed.push(n);
  }
  return removed;
}

export function writeFileAtomic(file: string, text: string, opts: AtomicWriteOptions = {}): void {
  removeStaleTemps(file);
  const tmp = tempPath(file);
  const fd = openSync(tmp, 'wx', opts.mode ?? 0o644);
  try {
    const buf = Buffer.from(text, 'utf8');
    for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
  } catch (e) {
    try {
      closeSync(fd);
    } catch {
      /* closed already */
    }
    rmSync(tmp, { force: true });
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
