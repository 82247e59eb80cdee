// Temp files of killed writers: removed by the next write of the same file; a live writer's kept.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { removeStaleTemps, tempPath, writeFileAtomic } from './atomic-write.js';

describe('writeFileAtomic', () => {
  it('removes dead writers’ and its own leftover temp files, keeps a live writer’s and other files’', () => {
    const dir = mkdtempSync(join(tmpdir(), 'podnet-atomic-'));
    try {
      const file = join(dir, 'lab-a.json');
      const dead = spawnSync('true').pid; // exited and reaped: its PID is free
      const leftovers = [tempPath(file, dead), tempPath(file, process.pid)];
      const live = tempPath(file, 1);
      const other = tempPath(join(dir, 'lab-b.json'), dead);
      for (const t of [...leftovers, live, other]) writeFileSync(t, 'half a fi');
      expect(removeStaleTemps(file).sort()).toEqual(leftovers.map((t) => basename(t)).sort());
      writeFileSync(leftovers[0]!, 'half a fi');
      writeFileAtomic(file, '{"ok": true}\n');
      expect(readFileSync(file, 'utf8')).toBe('{"ok": true}\n');
      expect(readdirSync(dir).sort()).toEqual(['lab-a.json', basename(live), basename(other)].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
