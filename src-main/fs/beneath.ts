// File work beneath a trusted base folder that never follows a symbolic link. A lab world can write
// its own state (its nodes' /etc/cni/net.d, /var/lib/cni, …), so any component of a path there may be
// a link a lab planted to a host folder. Each operation opens the base, then walks one component at a
// time with O_NOFOLLOW|O_DIRECTORY through /proc/self/fd/<fd>/<name>: the magic link pins the exact
// folder already opened, so a folder swapped for a link in the middle of the walk cannot redirect it.
// The last component is opened with O_NOFOLLOW too, or acted on by a call that never follows one
// (unlink, rmdir, rename, mkdir, lstat).
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmdirSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { isAlive } from '../world/procfs.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_APPEND, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;

/** What a file of the world may be at most when the engine reads it whole (a lab can make one huge). */
export const DEFAULT_MAX_READ = 16 * 1024 * 1024;

export type BeneathProblem = 'symlink' | 'not-folder' | 'not-file' | 'too-large' | 'bad-path';

/** A path beneath the base that the engine refuses to follow or use; `shown` is where it is, in the world's words. */
export class BeneathError extends Error {
  constructor(
    readonly problem: BeneathProblem,
    readonly shown: string,
    message: string,
  ) {
    super(message);
    this.name = 'BeneathError';
  }
}

const refusal = (problem: BeneathProblem, shown: string, extra = ''): BeneathError => {
  const what: Record<BeneathProblem, string> = {
    symlink: 'is a symbolic link in the lab world: refused',
    'not-folder': 'is not a folder in the lab world: refused',
    'not-file': 'is not a regular file in the lab world: refused',
    'too-large': 'is too large to read',
    'bad-path': 'is not a path beneath the lab world’s state: refused',
  };
  return new BeneathError(problem, shown, `${shown} ${what[problem]}${extra}`);
};

const errno = (e: unknown): string | undefined => (e as NodeJS.ErrnoException | undefined)?.code;

/** Whether an error means "not there" (so callers can treat it as absence). */
export const isMissing = (e: unknown): boolean => errno(e) === 'ENOENT';

/** A path's components, refusing anything but plain names (no "..", no absolute path). */
function components(rel: string): string[] {
  const parts = rel.split('/').filter((p) => p !== '' && p !== '.');
  for (const p of parts) if (p === '..') throw refusal('bad-path', rel);
  return parts;
}

const at = (fd: number, name: string) => `/proc/self/fd/${fd}/${name}`;
const self = (fd: number) => `/proc/self/fd/${fd}`;

export interface BeneathWriteOptions {
  mode?: number;
  /** fsync the file and its folder (default true); a cache that ends with its world may skip it. */
  durable?: boolean;
}

/**
 * A folder tree the engine works in without following links: `base` is trusted and opened as is (it
 * may be any path the engine can open); every path given is relative to `prefix` beneath it.
 */
export class Beneath {
  constructor(
    readonly base: string,
    /** How a relative path (from base) is named in messages: where a reader finds it. */
    private readonly show: (rel: string) => string = (rel) => join(base, rel),
    readonly prefix = '',
  ) {}

  /** The same tree seen from a folder beneath (still walked from the base). */
  at(rel: string): Beneath {
    return new Beneath(this.base, this.show, this.full(rel));
  }

  /** A path relative to the base, as messages name it. */
  shown(rel = ''): string {
    return this.show(this.full(rel));
  }

  private full(rel: string): string {
    return [...components(this.prefix), ...components(rel)].join('/');
  }

  /**
   * Opens the folder at `parts` (from the base), each component without following a link; returns
   * its descriptor (the caller closes it).
   */
  private openDir(parts: string[]): number {
    let fd = openSync(this.base, O_RDONLY | O_DIRECTORY);
    try {
      for (let i = 0; i < parts.length; i++) {
        const next = this.openChildDir(fd, parts[i]!, parts.slice(0, i + 1));
        closeSync(fd);
        fd = next;
      }
      return fd;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  private openChildDir(fd: number, name: string, sofar: string[]): number {
    try {
      return openSync(at(fd, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    } catch (e) {
      if (errno(e) === 'ELOOP' || errno(e) === 'ENOTDIR') throw this.why(fd, name, sofar, 'not-folder');
      throw e;
    }
  }

  /** Why `name` in the folder `fd` was refused: a link, or the other problem. */
  private why(fd: number, name: string, sofar: string[], otherwise: BeneathProblem): BeneathError {
    let link = false;
    try {
      link = lstatSync(at(fd, name)).isSymbolicLink();
    } catch {
      /* gone meanwhile: say what it was asked to be */
    }
    return refusal(link ? 'symlink' : otherwise, this.show(sofar.join('/')));
  }

  /** The folder holding `rel` (opened) and the last component's name. */
  private withParent<T>(rel: string, fn: (dirFd: number, name: string, parts: string[]) => T): T {
    const parts = components(this.full(rel));
    const name = parts.at(-1);
    if (name === undefined) throw refusal('bad-path', this.show(''), ': a file is needed here, not the base');
    const fd = this.openDir(parts.slice(0, -1));
    try {
      return fn(fd, name, parts);
    } finally {
      closeSync(fd);
    }
  }

  /** Runs `fn` with a path (/proc/self/fd/N) to the folder at `rel`, opened without following links. */
  withDir<T>(rel: string, fn: (dirPath: string) => T): T {
    const fd = this.openDir(components(this.full(rel)));
    try {
      return fn(self(fd));
    } finally {
      closeSync(fd);
    }
  }

  /** Opens a regular file; refuses a link, a folder, a FIFO or a device (O_NONBLOCK: a FIFO never blocks). */
  private openFile(rel: string, flags: number, mode?: number): { fd: number; st: Stats } {
    return this.withParent(rel, (dirFd, name, parts) => {
      let fd: number;
      try {
        fd = openSync(at(dirFd, name), flags | O_NOFOLLOW | O_NONBLOCK, mode);
      } catch (e) {
        if (errno(e) === 'ELOOP') throw this.why(dirFd, name, parts, 'not-file');
        if (errno(e) === 'EISDIR') throw refusal('not-file', this.show(parts.join('/')));
        throw e;
      }
      const st = fstatSync(fd);
      if (!st.isFile()) {
        closeSync(fd);
        throw refusal('not-file', this.show(parts.join('/')));
      }
      return { fd, st };
    });
  }

  readFile(rel: string, opts: { maxBytes?: number } = {}): string {
    const max = opts.maxBytes ?? DEFAULT_MAX_READ;
    const { fd, st } = this.openFile(rel, O_RDONLY);
    try {
      if (st.size > max) throw refusal('too-large', this.shown(rel), ` (${st.size} bytes; at most ${max})`);
      const chunks: Buffer[] = [];
      let total = 0;
      // read to the end, not to the size seen: the file may grow meanwhile, but never past the limit
      for (;;) {
        const buf = Buffer.alloc(Math.min(64 * 1024, max + 1 - total));
        const n = buf.length ? readSync(fd, buf, 0, buf.length, null) : 0;
        if (n === 0) break;
        chunks.push(buf.subarray(0, n));
        total += n;
        if (total > max) throw refusal('too-large', this.shown(rel), ` (more than ${max} bytes)`);
      }
      return Buffer.concat(chunks).toString('utf8');
    } finally {
      closeSync(fd);
    }
  }

  /** A regular file opened for appending (created if missing), as a descriptor the caller closes. */
  openAppend(rel: string, mode = 0o644): number {
    return this.openFile(rel, O_WRONLY | O_APPEND | O_CREAT, mode).fd;
  }

  /**
   * Writes a file so that a reader sees the old content or the new, never a part: a temporary file
   * in the same folder, written, fsynced, renamed over the name, the folder fsynced (as
   * fs/atomic-write.ts). The rename replaces a link at the name itself; it never writes through one.
   */
  writeFileAtomic(rel: string, text: string | Buffer, opts: BeneathWriteOptions = {}): void {
    const durable = opts.durable ?? true;
    this.withParent(rel, (dirFd, name) => {
      removeStaleTemps(dirFd, name);
      const tmp = `.${name}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
      const fd = openSync(at(dirFd, tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, opts.mode ?? 0o644);
      try {
        const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
        for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off);
        if (durable) fsyncSync(fd);
        closeSync(fd);
        renameSync(at(dirFd, tmp), at(dirFd, name));
      } catch (e) {
        try {
          closeSync(fd);
        } catch {
          /* closed already */
        }
        try {
          unlinkSync(at(dirFd, tmp));
        } catch {
          /* never made, or renamed */
        }
        throw e;
      }
      if (durable) fsyncSync(dirFd);
    });
  }

  /** The names in a folder. */
  readdir(rel = ''): string[] {
    return this.withDir(rel, (p) => readdirSync(p));
  }

  /** The names in a folder, or none when it does not exist. */
  readdirIfExists(rel = ''): string[] {
    try {
      return this.readdir(rel);
    } catch (e) {
      if (isMissing(e)) return [];
      throw e;
    }
  }

  /** lstat of the last component (never followed), or undefined when it does not exist. */
  lstat(rel: string): Stats | undefined {
    try {
      return this.withParent(rel, (dirFd, name) => lstatSync(at(dirFd, name)));
    } catch (e) {
      if (isMissing(e)) return undefined;
      throw e;
    }
  }

  /** Whether something is at `rel` (a link counts; it is not followed). */
  exists(rel: string): boolean {
    return this.lstat(rel) !== undefined;
  }

  /** Removes a file (or a link itself); missing is fine with `force`. */
  unlink(rel: string, opts: { force?: boolean } = {}): void {
    try {
      this.withParent(rel, (dirFd, name) => unlinkSync(at(dirFd, name)));
    } catch (e) {
      if (opts.force && isMissing(e)) return;
      throw e;
    }
  }

  /** rm -rf beneath: folders are entered without following links; links themselves are removed. */
  rm(rel: string): void {
    try {
      this.withParent(rel, (dirFd, name) => removeTree(dirFd, name));
    } catch (e) {
      if (isMissing(e)) return;
      throw e;
    }
  }

  /** mkdir -p beneath: each component made if missing, and entered only if it is a folder, not a link. */
  mkdirp(rel: string, mode = 0o755): void {
    const parts = components(this.full(rel));
    let fd = openSync(this.base, O_RDONLY | O_DIRECTORY);
    try {
      for (let i = 0; i < parts.length; i++) {
        try {
          mkdirSync(at(fd, parts[i]!), mode);
        } catch (e) {
          if (errno(e) !== 'EEXIST') throw e;
        }
        const next = this.openChildDir(fd, parts[i]!, parts.slice(0, i + 1));
        closeSync(fd);
        fd = next;
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Renames within the tree; neither side is followed. */
  rename(from: string, to: string, opts: { durable?: boolean } = {}): void {
    this.withParent(from, (fromFd, fromName) =>
      this.withParent(to, (toFd, toName) => {
        renameSync(at(fromFd, fromName), at(toFd, toName));
        if (opts.durable ?? true) {
          fsyncSync(toFd);
          if (fromFd !== toFd) fsyncSync(fromFd);
        }
      }),
    );
  }

  /** Makes the folder at `rel`'s entries durable. */
  syncDir(rel = ''): void {
    const fd = this.openDir(components(this.full(rel)));
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** Removes `name` in the folder `dirFd`: a folder entered without following links, anything else unlinked. */
function removeTree(dirFd: number, name: string): void {
  const st = lstatSync(at(dirFd, name));
  if (!st.isDirectory()) return unlinkSync(at(dirFd, name));
  let fd: number;
  try {
    fd = openSync(at(dirFd, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (e) {
    // swapped for a link (or a file) since the lstat: remove that instead of entering it
    if (errno(e) === 'ELOOP' || errno(e) === 'ENOTDIR') return unlinkSync(at(dirFd, name));
    throw e;
  }
  try {
    for (const child of readdirSync(self(fd))) removeTree(fd, child);
  } finally {
    closeSync(fd);
  }
  rmdirSync(at(dirFd, name));
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Temporary files of `name` left by writers that were killed (a dead PID's, or this process's own). */
function removeStaleTemps(dirFd: number, name: string): void {
  const re = new RegExp(`^\\.${escapeRe(name)}\\.(\\d+)-[0-9a-f]{8}\\.tmp$`);
  for (const n of readdirSync(self(dirFd))) {
    const m = re.exec(n);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && isAlive(pid)) continue;
    try {
      unlinkSync(at(dirFd, n));
    } catch {
      /* another writer removed it */
    }
  }
}
