// A command a lab runs through the engine (a prepare, a check, a solution) may print without end: the
// engine keeps the first part of each stream and says how much it cut, and its memory stays bounded.
import { describe, expect, it } from 'vitest';
import { EXEC_OUTPUT_LIMIT } from '../../src-main/world/world-init.js';
import { withWorld } from '../helpers.js';

describe("a command's output through world.exec", () => {
  it('is kept up to the limit, with how much was cut, and the engine does not hold the rest', () =>
    withWorld(1, async (w) => {
      const rss0 = process.memoryUsage().rss;
      let peak = rss0;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      try {
        // 320 MiB on stdout, a little on stderr (all of it held would be about three times that, with the copies)
        const r = await w.exec({ kind: 'node', node: 'node1' }, [
          'sh',
          '-c',
          'head -c 335544320 /dev/zero | tr "\\0" x; echo oops >&2',
        ]);
        expect(r.code).toBe(0);
        expect(r.stdout.length).toBeLessThan(EXEC_OUTPUT_LIMIT + 200);
        expect(r.stdout.startsWith('xxxx')).toBe(true);
        expect(r.stdout).toMatch(/\n… 268\.4 MB more cut$/);
        expect(r.stderr).toBe('oops\n');
      } finally {
        clearInterval(sampler);
      }
      // the kept 64 MiB (its parts, their concatenation, the string) and no more: the other 256 MiB were never held
      expect((peak - rss0) / 2 ** 20).toBeLessThan(400);
    }));
});
