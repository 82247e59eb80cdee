// Beneath: every operation walks from the base without following a link, and says which path it refused.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Beneath, BeneathError } from './beneath.js';

let base: string;
let outside: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'beneath-'));
  outside = mkdtempSync(join(tmpdir(), 'beneath-outside-'));
  writeFileSync(join(outside, 'secret'), 'SECRET\n');
  mkdirSync(join(base, 'a/b'), { recursive: true });
  writeFileSync(join(base, 'a/b/f'), 'hello');
});
afterEach(() => {
  rmSync(base, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

const refused = (fn: () => unknown, shown: RegExp) => {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(BeneathError);
  expect((err as Error).message).toMatch(/is a symbolic link in the lab world: refused/);
  expect((err as Error).message).toMatch(shown);
};

describe('Beneath', () => {
  it('reads, writes atomically, lists, makes folders and removes trees of plain folders', () => {
    const b = new Beneath(base);
    expect(b.readFile('a/b/f')).toBe('hello');
    b.writeFileAtomic('a/b/g', 'new', { mode: 0o600 });
    expect(readFileSync(join(base, 'a/b/g'), 'utf8')).toBe('new');
    expect(b.readdir('a/b').sort()).toEqual(['f', 'g']);
    b.mkdirp('x/y/z');
    expect(existsSync(join(base, 'x/y/z'))).toBe(true);
    expect(b.at('a').exists('b/f')).toBe(true);
    b.rename('a/b/g', 'a/b/h');
    expect(b.readdir('a/b').sort()).toEqual(['f', 'h']);
    b.rm('a');
    expect(readdirSync(base).sort()).toEqual(['x']);
    expect(b.readdirIfExists('nothing')).toEqual([]);
    expect(() => b.readFile('../etc/passwd')).toThrow(/not a path beneath/);
  });

  it('refuses a link anywhere on the path, and never touches what it points at', () => {
    rmSync(join(base, 'a/b'), { recursive: true });
    symlinkSync(outside, join(base, 'a/b'));
    const b = new Beneath(base, (rel) => `world:/${rel}`);
    refused(() => b.readFile('a/b/secret'), /world:\/a\/b /);
    refused(() => b.writeFileAtomic('a/b/planted', 'x'), /world:\/a\/b /);
    refused(() => b.readdir('a/b'), /world:\/a\/b /);
    refused(() => b.unlink('a/b/secret'), /world:\/a\/b /);
    refused(() => b.mkdirp('a/b/c'), /world:\/a\/b /);
    refused(() => b.rename('a/b/secret', 'a/x'), /world:\/a\/b /);
    refused(() => b.at('a/b').readdir(), /world:\/a\/b /);
    // rm removes the link itself, not what it points at
    b.rm('a/b');
    expect(readdirSync(outside)).toEqual(['secret']);
    expect(existsSync(join(base, 'a/b'))).toBe(false);
  });

  it('refuses a link as the last component for read and append; a write replaces the link, not its target', () => {
    symlinkSync(join(outside, 'secret'), join(base, 'a/b/link'));
    const b = new Beneath(base);
    refused(() => b.readFile('a/b/link'), /a\/b\/link/);
    refused(() => b.openAppend('a/b/link'), /a\/b\/link/);
    b.writeFileAtomic('a/b/link', 'mine');
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('SECRET\n');
    expect(readFileSync(join(base, 'a/b/link'), 'utf8')).toBe('mine');
  });

  it('refuses a FIFO without blocking, and a file over the limit without reading it', () => {
    execFileSync('mkfifo', [join(base, 'a/fifo')]);
    const b = new Beneath(base);
    expect(() => b.readFile('a/fifo')).toThrow(/not a regular file/);
    writeFileSync(join(base, 'a/big'), Buffer.alloc(2048));
    expect(() => b.readFile('a/big', { maxBytes: 1024 })).toThrow(/too large to read \(2048 bytes; at most 1024\)/);
  });
});
