// A world's sandbox started ahead (world.prepare, world/world-init-reserve.ts): the next start takes it,
// as this user and as nobody; one started for other limits, or killed since, is not taken; the engine's
// end ends it; the workshop's seats are given none.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine, type Engine } from '../src-main/engine/engine.js';
import { TerminalService } from '../src-main/terminal/terminal-service.js';
import { DEFAULT_LIMITS, rootSpec } from '../src-main/world/world.js';
import { hostPluginDirs } from '../src-main/world/paths.js';
import { lastJsonOf } from './helpers.js';

const CHILD = join(import.meta.dirname, 'fixtures/world-prepare.mjs');

interface Report {
  uid: number;
  reservedAlive: boolean;
  fromReserve: boolean;
  heldWhileRunning: boolean;
  heldAfterPrepareWhileRunning: boolean;
  text: string;
  nextAlive: boolean;
  nextGoneAfterDispose: boolean;
}

describe.each([
  ['as root', false],
  ['as nobody', true],
])('a sandbox started ahead (%s)', (_, asNobody) => {
  it('is taken by the next start, whose node1 shell is confined as any; the engine’s end ends the next one', () => {
    const argv = ['env', '-i', `PATH=${process.env.PATH}`, 'HOME=/tmp', process.execPath, CHILD];
    const r = lastJsonOf<{ report: Report }>(argv, asNobody, 60_000).report;
    expect(r.uid).toBe(asNobody ? 65534 : 0);
    expect(r.reservedAlive).toBe(true);
    expect(r.fromReserve).toBe(true);
    expect(r.heldWhileRunning).toBe(false);
    expect(r.heldAfterPrepareWhileRunning).toBe(false);
    expect(r.text).toMatch(/eth0@if\d+\s+UP\s+192\.0\.2\.11\/24 /);
    // /etc/shadow is hidden in this world as in one started on the spot
    expect(r.text).toMatch(/\n0\ndone-42\n/);
    expect(r.nextAlive).toBe(true);
    expect(r.nextGoneAfterDispose).toBe(true);
  }, 90_000);
});

describe('what a start does not take', () => {
  let engine: Engine | undefined;
  afterAll(() => engine?.dispose());

  it('a sandbox made for other limits, or one killed since: the start makes its own', async () => {
    engine = createEngine({ terminals: (w, r) => new TerminalService(w, r) });
    const reserve = engine.session.reserve;
    // made for other limits: a start with the engine's limits does not take it, and it stays
    reserve.prepare({ processes: 500 });
    const other = await reserve.pid();
    expect(other).toBeGreaterThan(0);
    expect(await reserve.take(rootSpec('', hostPluginDirs(), undefined), DEFAULT_LIMITS)).toBeUndefined();
    expect(reserve.held).toBe(true);
    // prepared for the engine's limits: the one for other limits is ended
    await engine.api['world.prepare']({});
    const mine = await reserve.pid();
    expect(mine).not.toBe(other);
    await expect.poll(() => existsSync(`/proc/${other}`), { timeout: 5_000 }).toBe(false);
    // killed from outside before the start: not handed out, the start makes its own sandbox
    process.kill(mine!, 'SIGKILL');
    await expect.poll(() => existsSync(`/proc/${mine}`), { timeout: 5_000 }).toBe(false);
    await engine.api['world.start']({ nodes: 1 });
    const w = engine.session.runningWorld!;
    expect(w.fromReserve).toBe(false);
    expect(await w.exec({ kind: 'node', node: 'node1' }, ['ip', '-br', 'link', 'show', 'eth0'])).toMatchObject({
      code: 0,
    });
    await engine.api['world.stop']({});
  }, 60_000);
});
