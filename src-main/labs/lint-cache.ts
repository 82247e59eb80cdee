// The catalogue lints every lab on each lab.list (each page load, each seat of a room): for the 25 labs
// that is 100–250 ms of the engine's thread, during which no terminal output or live view moves. A lab is
// linted again only when a file in its folder changed (its names, sizes, inodes and times, one stat each).
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { lintLab } from './loader.js';

type Linted = ReturnType<typeof lintLab>;

/** What a lab folder holds, as stat sees it: a changed, added or removed file changes it. */
function signature(dir: string, depth = 0): string {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    return `!${(e as NodeJS.ErrnoException).code ?? 'error'}`;
  }
  const parts: string[] = [];
  for (const d of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, d.name);
    try {
      const s = lstatSync(p);
      parts.push(`${d.name}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`);
      if (d.isDirectory() && depth < 4) parts.push(`[${signature(p, depth + 1)}]`);
    } catch {
      parts.push(`${d.name}:gone`);
    }
  }
  return parts.join('|');
}

export class LintCache {
  private readonly entries = new Map<string, { sig: string; linted: Linted }>();

  /** lintLab's answer for `dir`, from the last lint while none of its files changed. */
  lint(dir: string): Linted {
    const sig = signature(dir);
    const hit = this.entries.get(dir);
    if (hit?.sig === sig) return hit.linted;
    const linted = lintLab(dir);
    this.entries.set(dir, { sig, linted });
    return linted;
  }
}
