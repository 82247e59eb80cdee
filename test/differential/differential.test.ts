// The differential test: every scenario through the model and through the real containerd 2.1.9, and
// what each shows compared. A difference fails unless docs/architecture.md lists it with its reason.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LISTED_DIFFERENCES, observe, type Observation, type Scenario } from './observe.js';
import { SCENARIOS } from './scenarios.js';

/** What the scenario says both runtimes show: guards against two empty observations agreeing. */
function expectShape(o: Observation, sc: Scenario): void {
  const e = sc.expect;
  expect(Object.keys(o.calls).sort()).toEqual([...e.interfaces].sort());
  expect(o.networkReady.status).toBe(!e.notReady);
  if (e.setupError) expect(o.setupError).toMatch(e.setupError);
  else {
    expect(o.setupError).toBeUndefined();
    expect(o.pod?.links).toBeDefined();
    expect(o.calls.eth0!.some((c) => c.command === 'ADD' && c.exit === 0)).toBe(true);
  }
  if (e.killError) expect(o.killError).toMatch(e.killError);
  else expect(o.killError).toBeUndefined();
}

describe('the model against the real containerd 2.1.9', () => {
  it('lists every difference it tolerates in docs/architecture.md, with its reason', () => {
    const doc = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');
    const table = doc.slice(doc.indexOf('### The model against the real containerd'));
    for (const d of LISTED_DIFFERENCES) expect(table).toMatch(new RegExp(`\\| ${d.id} \\|`));
  });

  for (const sc of SCENARIOS) {
    it(
      sc.name,
      async () => {
        const model = await observe(sc, 'model');
        const real = await observe(sc, 'containerd');
        expectShape(real, sc);
        expect(model).toEqual(real);
      },
      120_000,
    );
  }
});
