// The soak's short form in the suite: 60 cycles over 3 nodes with 6 workers. The long form: npm run soak.
import { describe, expect, it } from 'vitest';
import { formatSoak, runSoak } from './soak.js';

describe('soak (short form)', () => {
  it('60 pod create/delete cycles across 3 nodes: every pod an IP, every IP released, the world ends as it started', async () => {
    const r = await runSoak({ cycles: 60, workers: 6 });
    console.log(formatSoak(r));
    expect(r.failures).toEqual([]);
    expect(r.badIps).toEqual([]);
    expect(r.leftovers).toEqual([]);
    expect(r.hostChanges).toEqual([]);
    // flat, generously: 60 cycles are too few for a fine measure, the long form reports the real figures
    expect(r.last.heapUsed).toBeLessThan(r.first.heapUsed * 2 + 32 * 2 ** 20);
  }, 180_000);
});
