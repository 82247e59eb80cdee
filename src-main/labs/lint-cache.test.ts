// The catalogue's lint cache: the same answer while a lab's files are unchanged, a new lint when any of
// them changes (an edit, a file added or removed), whoever made the change.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LintCache } from './lint-cache.js';

const LAB = join(import.meta.dirname, '../../labs/01-network-namespaces');
let dir = '';
// the temporary folder the lab was copied into, not only the copy (none if the test failed before it:
// dirname('') is '.', the checkout)
afterEach(() => {
  if (dir) rmSync(dirname(dir), { recursive: true, force: true });
  dir = '';
});

describe('LintCache', () => {
  it('lints a lab again only when one of its files changed', () => {
    dir = join(mkdtempSync(join(tmpdir(), 'podnet-lint-cache-')), 'lab');
    cpSync(LAB, dir, { recursive: true });
    const cache = new LintCache();
    const first = cache.lint(dir);
    expect(first.errors).toEqual([]);
    expect(cache.lint(dir)).toBe(first); // unchanged: the same answer, not linted again

    // an edit of lab.yaml's title
    const yaml = join(dir, 'lab.yaml');
    writeFileSync(yaml, readFileSync(yaml, 'utf8').replace(/^title: .*$/m, 'title: Edited title'));
    const edited = cache.lint(dir);
    expect(edited).not.toBe(first);
    expect(edited.lab?.meta.title).toBe('Edited title');

    // a step file removed: the lab no longer lints clean
    const step = readdirSync(join(dir, 'steps'))[0]!;
    rmSync(join(dir, 'steps', step));
    const broken = cache.lint(dir);
    expect(broken.errors.length).toBeGreaterThan(0);
    expect(cache.lint(dir)).toBe(broken);
  });
});
