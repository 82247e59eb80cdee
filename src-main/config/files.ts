// A node's /etc/cni/net.d as the editor sees it: names confined to that directory (no "..", no
// slashes, no symlinks, and no symlink on the way to it: a lab may plant one in its world's state,
// fs/beneath.ts), and writes that are atomic (a temp file, fsync, rename, fsync of the dir), so the
// runtime never loads half a file and a failed save loses nothing.
import { join } from 'node:path';
import { CONF_EXTENSIONS } from '../cni/conf.js';
import { Beneath } from '../fs/beneath.js';

/** A config file is read whole by the editor: at most this (a save takes 1 Mi characters: up to 4 MiB of UTF-8). */
export const MAX_CONF_BYTES = 4 * 1024 * 1024;

/** A config file name: a plain name with a config extension (so never "..", never a path). */
export const CONF_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,95}\.(conf|conflist|json)$/;

export class ConfigFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigFileError';
  }
}

export function checkName(name: string): string {
  if (!CONF_NAME_RE.test(name)) {
    throw new ConfigFileError(
      `invalid config file name "${name}": a plain file name (letters, digits, "_", "." and "-", no "/"), ending in ${CONF_EXTENSIONS.join(', ')}`,
    );
  }
  return name;
}

export interface ConfFileInfo {
  name: string;
  size: number;
  mtime: number;
}

export class ConfDir {
  readonly files: Beneath;

  constructor(
    dir: string | Beneath,
    /** The directory as the node sees it, for messages. */
    readonly shown = '/etc/cni/net.d',
  ) {
    this.files = typeof dir === 'string' ? new Beneath(dir, (rel) => join(shown, rel)) : dir;
  }

  /** Checks a name, refusing anything that is not a regular file of this directory when it exists. */
  private path(name: string, mustExist: boolean): string {
    checkName(name);
    const st = this.files.lstat(name);
    if (!st) {
      if (mustExist) throw new ConfigFileError(`${this.shown}/${name} does not exist`);
      return name;
    }
    if (st.isSymbolicLink())
      throw new ConfigFileError(
        `${this.shown}/${name} is a symbolic link: the editor only opens regular files of ${this.shown}`,
      );
    if (!st.isFile()) throw new ConfigFileError(`${this.shown}/${name} is not a regular file`);
    return name;
  }

  list(): ConfFileInfo[] {
    return this.files
      .readdirIfExists()
      .filter((n) => CONF_NAME_RE.test(n))
      .sort()
      .flatMap((n) => {
        const st = this.files.lstat(n);
        return st?.isFile() ? [{ name: n, size: st.size, mtime: st.mtimeMs }] : [];
      });
  }

  read(name: string): { text: string; mtime: number } {
    const p = this.path(name, true);
    return { text: this.files.readFile(p, { maxBytes: MAX_CONF_BYTES }), mtime: this.files.lstat(p)?.mtimeMs ?? 0 };
  }

  exists(name: string): boolean {
    return this.files.exists(checkName(name));
  }

  /** Writes atomically: the runtime sees the old file or the new one, never a part. */
  write(name: string, text: string): ConfFileInfo {
    const p = this.path(name, false);
    // its temp file is a dot name without a config extension: the loader never picks one up
    this.files.writeFileAtomic(p, text);
    const st = this.files.lstat(p);
    return { name, size: st?.size ?? 0, mtime: st?.mtimeMs ?? 0 };
  }

  create(name: string, text: string): ConfFileInfo {
    if (this.exists(name)) throw new ConfigFileError(`${this.shown}/${name} already exists`);
    return this.write(name, text);
  }

  rename(from: string, to: string): void {
    const a = this.path(from, true);
    if (this.exists(to)) throw new ConfigFileError(`${this.shown}/${to} already exists`);
    this.files.rename(a, this.path(to, false));
  }

  remove(name: string): void {
    this.files.unlink(this.path(name, true));
    this.files.syncDir();
  }
}
