import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkName, ConfDir, ConfigFileError } from './files.js';

let dir: string;
let outside: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'podnet-confdir-'));
  outside = mkdtempSync(join(tmpdir(), 'podnet-outside-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe('ConfDir', () => {
  it('refuses names that are not plain config file names', () => {
    for (const n of [
      '../x.conflist',
      'a/b.conf',
      '..conflist',
      '.x.conf',
      'x.txt',
      'x.conflist/',
      '',
      'x'.repeat(120) + '.conf',
    ]) {
      expect(() => checkName(n), n).toThrow(ConfigFileError);
    }
    expect(checkName('10-podnet.conflist')).toBe('10-podnet.conflist');
  });

  it('writes atomically: the new text in place, no temp file left, the old text kept when the write cannot happen', () => {
    const d = new ConfDir(dir);
    d.write('10-a.conflist', 'one\n');
    d.write('10-a.conflist', 'two\n');
    expect(readdirSync(dir)).toEqual(['10-a.conflist']);
    expect(readFileSync(join(dir, '10-a.conflist'), 'utf8')).toBe('two\n');
    // a directory where the file should be: refused, nothing changed
    mkdirSync(join(dir, '20-dir.conf'));
    expect(() => d.write('20-dir.conf', 'x')).toThrow(/not a regular file/);
    expect(readdirSync(dir).sort()).toEqual(['10-a.conflist', '20-dir.conf']);
  });

  it('never follows a symlink out of the directory', () => {
    writeFileSync(join(outside, 'secret'), 'keep');
    symlinkSync(join(outside, 'secret'), join(dir, '05-link.conf'));
    const d = new ConfDir(dir);
    expect(() => d.read('05-link.conf')).toThrow(/symbolic link/);
    expect(() => d.write('05-link.conf', 'x')).toThrow(/symbolic link/);
    expect(() => d.remove('05-link.conf')).toThrow(/symbolic link/);
    expect(() => d.rename('05-link.conf', '06-x.conf')).toThrow(/symbolic link/);
    expect(readFileSync(join(outside, 'secret'), 'utf8')).toBe('keep');
    expect(d.list()).toEqual([]);
  });

  it('creates without clobbering, renames without clobbering, removes', () => {
    const d = new ConfDir(dir);
    d.create('10-a.conf', 'a');
    expect(() => d.create('10-a.conf', 'b')).toThrow(/already exists/);
    d.create('20-b.conf', 'b');
    expect(() => d.rename('10-a.conf', '20-b.conf')).toThrow(/already exists/);
    d.rename('10-a.conf', '30-a.conf');
    d.remove('20-b.conf');
    expect(d.list().map((f) => f.name)).toEqual(['30-a.conf']);
    expect(d.read('30-a.conf').text).toBe('a');
    expect(() => d.read('20-b.conf')).toThrow(/does not exist/);
  });
});
