// A lab owns its world's state folder (/run/podnet in the sandbox, each node's /etc/cni/net.d and
// /var/lib/cni): it can put a symlink to a host folder where the engine expects a folder of the world.
// The engine must never follow one: the config editor refuses, the result cache is not written through
// it, and the host folder is untouched. Run as root and as an unprivileged user (nobody), through the
// real engine (test/fixtures/world-symlinks-child.mjs, the built engine in out/).
import { chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lastJsonOf } from '../helpers.js';

const CHILD = join(import.meta.dirname, '../fixtures/world-symlinks-child.mjs');
const NOBODY = 65534;
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

interface Outcome {
  ok: boolean;
  error?: string;
}

/** Host folders the lab points its links at, owned by the user the engine runs as (theirs to lose). */
function targets(uid: number) {
  const top = mkdtempSync(join(tmpdir(), 'podnet-victim-'));
  made.push(top);
  const netd = join(top, 'netd');
  const results = join(top, 'results');
  mkdirSync(netd);
  mkdirSync(results);
  writeFileSync(join(netd, 'victim.conflist'), '{"victim": true}\n');
  writeFileSync(join(results, 'keep'), 'keep\n');
  for (const p of [top, netd, results, join(netd, 'victim.conflist'), join(results, 'keep')]) chownSync(p, uid, uid);
  return { netd, results };
}

function attack(asNobody: boolean, raceSeconds: number) {
  const t = targets(asNobody ? NOBODY : 0);
  const argv = [
    'env',
    '-i',
    `PATH=${process.env.PATH}`,
    process.execPath,
    CHILD,
    t.netd,
    t.results,
    String(raceSeconds),
  ];
  const out = lastJsonOf<Record<string, unknown>>(argv, asNobody, 90_000);
  expect(out.fatal, String(out.fatal)).toBeUndefined();
  return { t, out };
}

const REFUSED = /is a symbolic link in the lab world: refused/;

describe.each([
  ['as root', false],
  ['as an unprivileged user (nobody)', true],
])('symlinks a lab plants in its world, %s', (_name, asNobody) => {
  it('the engine follows none: config requests refuse, no cached result lands in the host folder, even while a loop swaps folder and link', () => {
    const { t, out } = attack(asNobody, 3);
    expect((out.plantResults as { code: number }).code).toBe(0);
    expect((out.plantNetd as { code: number }).code).toBe(0);
    // the pod may fail (its result cannot be cached): then with the reason
    const create = out.podCreate as Outcome;
    if (!create.ok) expect(create.error).toMatch(REFUSED);
    expect(out.resultsAfterCreate).toEqual(['keep']);
    for (const op of ['list', 'read', 'save', 'create', 'rename', 'delete']) {
      const o = out[op] as Outcome;
      expect(o.ok, `config ${op}`).toBe(false);
      expect(o.error, `config ${op}`).toMatch(REFUSED);
      expect(o.error, `config ${op}`).toContain('/etc/cni/net.d');
    }
    // the host folders are as they were
    expect(readdirSync(t.netd)).toEqual(['victim.conflist']);
    expect(readFileSync(join(t.netd, 'victim.conflist'), 'utf8')).toBe('{"victim": true}\n');
    expect(readdirSync(t.results)).toEqual(['keep']);
    const race = out.race as { rounds: number };
    expect(race.rounds).toBeGreaterThan(0);
    expect(out.raceSeen).toEqual(['keep']);
  });
});
