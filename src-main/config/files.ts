// A node's /etc/cni/net.d as the editor sees it: names confined to that directory (no "..", no
// slashes, no symlinks), and writes that are atomic (a temp file, fsync, rename, fsync of the dir),
// so the runtime never loads half a file and a failed save loses nothing.
import { lstatSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CONF_EXTENSIONS } from '../cni/conf.js';
import { syncDir, writeFileAtomic } from '../fs/atomic-write.js';

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
  constructor(
    readonly dir: string,
    /** The directory as the node sees it, for messages. */
    readonly shown = '/etc/cni/net.d',
  ) {}

  /** The path of a name, refusing anything that is not a regular file of this directory when it exists. */
  private path(name: string, mustExist: boolean): string {
    const p = join(this.dir, checkName(name));
    let st;
    try {
      st = lstatSync(p);
    } catch {
      if (mustExist) throw new ConfigFileError(`${this.shown}/${name} does not exist`);
      return p;
    }
    if (st.isSymbolicLink())
      throw new ConfigFileError(
        `${this.shown}/${name} is a symbolic link: the editor only opens regular files of ${this.shown}`,
      );
    if (!st.isFile()) throw new ConfigFileError(`${this.shown}/${name} is not a regular file`);
    return p;
  }

  list(): ConfFileInfo[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => CONF_NAME_RE.test(n))
      .sort()
      .flatMap((n) => {
        const st = lstatSync(join(this.dir, n));
        return st.isFile() ? [{ name: n, size: st.size, mtime: st.mtimeMs }] : [];
      });
  }

  read(name: string): { text: string; mtime: number } {
    const p = this.path(name, true);
    return { text: readFileSync(p, 'utf8'), mtime: lstatSync(p).mtimeMs };
  }

  exists(name: string): boolean {
    try {
      lstatSync(join(this.dir, checkName(name)));
      return true;
    } catch {
      return false;
    }
  }

  /** Writes atomically: the runtime sees the old file or the new one, never a part. */
  write(name: string, text: string): ConfFileInfo {
    const p = this.path(name, false);
    // its temp file is a dot name without a config extension: the loader never picks one up
    writeFileAtomic(p, text);
    const st = lstatSync(p);
    return { name, size: st.size, mtime: st.mtimeMs };
  }

  create(name: string, text: string): ConfFileInfo {
    if (this.exists(name)) throw new ConfigFileError(`${this.shown}/${name} already exists`);
    return this.write(name, text);
  }

  rename(from: string, to: string): void {
    const a = this.path(from, true);
    if (this.exists(to)) throw new ConfigFileError(`${this.shown}/${to} already exists`);
    renameSync(a, this.path(to, false));
    syncDir(this.dir);
  }

  remove(name: string): void {
    rmSync(this.path(name, true));
    syncDir(this.dir);
  }
}
