// Set-up's pinned binaries: the newest suite's sources list derived from the system's, and the plugin
// set a world uses (PODNET_CNI_PATH, else the pinned set, else the system's).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pluginSet } from '../src-main/world/paths.js';

interface PinnedModule {
  newestSuiteSources(files?: string[]): string;
  missingBundles(tests: boolean): { name: string }[];
}
const pinned = (await import(join(import.meta.dirname, '../scripts/pinned.mjs'))) as PinnedModule;

describe('the newest suite, derived from the system sources', () => {
  const dir = mkdtempSync(join(tmpdir(), 'podnet-sources-'));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps the release archive of a deb822 file, with its key, and drops security and updates', () => {
    const f = write(
      'debian.sources',
      [
        'Types: deb',
        '# a comment inside the stanza',
        'URIs: http://mirror.example/debian',
        'Suites: bookworm bookworm-updates',
        'Components: main',
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
        '',
        'Types: deb',
        'URIs: http://mirror.example/debian-security',
        'Suites: bookworm-security',
        'Components: main',
        '',
      ].join('\n'),
    );
    expect(pinned.newestSuiteSources([f])).toBe(
      'Types: deb\nURIs: http://mirror.example/debian\nSuites: sid bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n',
    );
  });

  it('reads the one-line format too, once per mirror', () => {
    const f = write(
      'sources.list',
      [
        'deb [signed-by=/k.gpg] http://mirror.example/debian bookworm main contrib',
        'deb http://mirror.example/debian bookworm-updates main',
        'deb http://mirror.example/debian-security bookworm-security main',
        '# deb http://other.example/debian bookworm main',
        '',
      ].join('\n'),
    );
    expect(pinned.newestSuiteSources([f])).toBe(
      'Types: deb\nURIs: http://mirror.example/debian\nSuites: sid bookworm\nComponents: main\nSigned-By: /k.gpg\n',
    );
  });

  it('gives nothing when no entry is a release archive', () => {
    const f = write('only-security.list', 'deb http://mirror.example/debian-security bookworm-security main\n');
    expect(pinned.newestSuiteSources([f])).toBe('');
  });
});

describe('the plugin set a world uses', () => {
  const base = mkdtempSync(join(tmpdir(), 'podnet-plugins-'));
  const pinnedDir = join(base, 'pinned');
  mkdirSync(join(pinnedDir, 'cni-plugins/bin'), { recursive: true });
  writeFileSync(join(pinnedDir, 'cni-plugins/bin/bridge'), '');
  writeFileSync(
    join(pinnedDir, 'cni-plugins/.pinned'),
    'containernetworking-plugins 1.9.1\n---\ncontainernetworking-plugins 1.9.1+ds1-1\n',
  );
  const own = join(base, 'own');
  mkdirSync(own);
  writeFileSync(join(own, 'bridge'), '');
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('PODNET_CNI_PATH first, then the pinned set with its version, then the system', () => {
    expect(pluginSet({ PODNET_CNI_PATH: own, PODNET_PINNED_DIR: pinnedDir })).toEqual({
      dirs: [own],
      source: 'PODNET_CNI_PATH',
    });
    expect(pluginSet({ PODNET_PINNED_DIR: pinnedDir })).toEqual({
      dirs: [join(pinnedDir, 'cni-plugins/bin')],
      source: 'pinned',
      version: '1.9.1+ds1-1',
    });
    expect(pluginSet({ PODNET_PINNED_DIR: join(base, 'none') }).source).toBe('system');
  });

  it('this checkout has the pinned 1.9.1 set (npm test fetched it), so worlds run it', () => {
    const set = pluginSet({});
    expect(set.source).toBe('pinned');
    expect(set.version).toMatch(/^1\.9\.1\+/);
    expect(pinned.missingBundles(true)).toEqual([]);
  });
});
