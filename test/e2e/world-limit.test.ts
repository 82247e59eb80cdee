// In the UI: a world at its process limit says so (the world's error panel), and the message goes once
// processes end. The world is filled by a bounded fork loop (test/fixtures/fork-probe.c), never a bomb here.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src-main/world/world.js';
import { openSession, startWorld, type Session } from './harness.js';

const ROOT = join(import.meta.dirname, '../..');
const SHOTS = join(ROOT, 'out/screenshots');
const PROBE = join(ROOT, 'out/test-fixtures/fork-probe');
let s: Session;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  mkdirSync(join(ROOT, 'out/test-fixtures'), { recursive: true });
  execFileSync('cc', ['-O2', '-Wall', '-o', PROBE, join(ROOT, 'test/fixtures/fork-probe.c')]);
  s = await openSession({ width: 1280, height: 800 }, 'dark');
}, 60_000);
afterAll(async () => {
  await s?.close();
});

describe('a world at its process limit, in Chromium', () => {
  it('shows the limit in the world’s error panel while the world is full, and clears it after', async () => {
    const { page } = s;
    await startWorld(page, 1);
    const world = s.engine.session.runningWorld!;
    const limit = DEFAULT_LIMITS.processes;
    const held = world.spawn({ kind: 'node', node: 'node1' }, [PROBE, '0', String(limit + 400), 'hold'], {
      stdin: true,
    });
    let out = '';
    held.on('stdout', (d) => (out += d.toString()));
    try {
      await expect.poll(() => out, { timeout: 30_000 }).toMatch(/^forked \d+ errno 11\n/);
      await expect
        .poll(
          () =>
            page
              .getByTestId('world-error')
              .isVisible()
              .catch(() => false),
          { timeout: 15_000 },
        )
        .toBe(true);
      expect(await page.getByTestId('world-error').innerText()).toContain(
        `the world has reached its limit of ${limit} processes`,
      );
      await page.screenshot({ path: join(SHOTS, 'world-at-process-limit.png') });
    } finally {
      held.end();
      await held.exited;
    }
    await expect.poll(() => page.getByTestId('world-error').count(), { timeout: 15_000 }).toBe(0);
    expect(s.errors).toEqual([]);
  }, 120_000);
});
