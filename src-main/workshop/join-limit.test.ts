// The per-address join limit: a burst goes at once, then one join per 1/rate seconds; addresses are apart.
import { describe, expect, it } from 'vitest';
import { JoinLimit } from './join-limit.js';

describe('JoinLimit', () => {
  it('lets a burst through, then says how long to wait; each address has its own bucket', () => {
    let now = 0;
    const l = new JoinLimit({ burst: 3, perSecond: 0.5 }, () => now);
    expect([l.take('a'), l.take('a'), l.take('a')]).toEqual([0, 0, 0]);
    expect(l.take('a')).toBe(2); // one token back takes 2 s at 0.5 a second
    expect(l.take('b')).toBe(0);
    now = 1000;
    expect(l.take('a')).toBe(1); // half a token back: a refusal takes nothing
    now = 2000;
    expect(l.take('a')).toBe(0);
    expect(l.take('a')).toBe(2);
  });

  it('forgets an address once its bucket is full again', () => {
    let now = 0;
    const l = new JoinLimit({ burst: 2, perSecond: 1 }, () => now);
    l.take('a');
    l.sweep();
    expect((l as unknown as { buckets: Map<string, unknown> }).buckets.size).toBe(1);
    now = 1000;
    l.sweep();
    expect((l as unknown as { buckets: Map<string, unknown> }).buckets.size).toBe(0);
  });

  it('refuses a rate that would let nothing through', () => {
    expect(() => new JoinLimit({ burst: 0, perSecond: 1 })).toThrow('a join rate needs a burst of at least 1');
    expect(() => new JoinLimit({ burst: 2, perSecond: 0 })).toThrow('a positive rate');
  });
});
