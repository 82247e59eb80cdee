import { describe, expect, it } from 'vitest';
import { goSleep } from './go-sleep.js';

describe('goSleep', () => {
  it('never returns before its time, by performance.now() (a bare setTimeout can, by up to a millisecond)', async () => {
    const short: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await goSleep(5);
      const took = performance.now() - t0;
      if (took < 5) short.push(took);
    }
    expect(short).toEqual([]);
  });
});
