// How often one address may ask for a seat: a token bucket per address, so a script (or a guesser of
// room codes) cannot take every seat or try codes at the server's speed, while a room joining at once can.
export interface JoinRate {
  /** Joins an address may make at once. */
  burst: number;
  /** Joins an address gets back each second. */
  perSecond: number;
}

/** A room of 30 joining at once from behind one NAT fits; a guesser gets one try a second. */
export const DEFAULT_JOIN_RATE: JoinRate = { burst: 30, perSecond: 1 };

export class JoinLimit {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly rate: JoinRate = DEFAULT_JOIN_RATE,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(rate.burst >= 1) || !(rate.perSecond > 0))
      throw new Error(`a join rate needs a burst of at least 1 and a positive rate (got ${JSON.stringify(rate)})`);
  }

  /** Takes one join for `address`: 0 if it may go now, else the seconds until it may (nothing taken). */
  take(address: string): number {
    const t = this.now();
    const b = this.buckets.get(address) ?? { tokens: this.rate.burst, at: t };
    b.tokens = Math.min(this.rate.burst, b.tokens + ((t - b.at) / 1000) * this.rate.perSecond);
    b.at = t;
    this.buckets.set(address, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / this.rate.perSecond);
  }

  /** Forgets addresses whose bucket has filled again (called now and then: the map must not grow forever). */
  sweep(): void {
    const t = this.now();
    for (const [a, b] of this.buckets)
      if (b.tokens + ((t - b.at) / 1000) * this.rate.perSecond >= this.rate.burst) this.buckets.delete(a);
  }
}
