interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * A token bucket per key (a client address, a client id): `ratePerSecond`
 * attempts a second, in bursts of up to `burst`; a rate or a burst of 0 means
 * no limit (a bucket that never holds a token would refuse every attempt).
 * The table of keys is bounded; when it is full of keys that are all still
 * busy, new keys are refused rather than letting a spread-out flood grow
 * memory.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly unlimited: boolean;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly maxKeys = 100_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.unlimited = ratePerSecond === 0 || burst === 0;
  }

  /** Takes one attempt from the key's allowance; false when it has none left. */
  tryTake(key: string): boolean {
    if (this.unlimited) return true;
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys && !this.sweep(now)) return false;
      bucket = { tokens: this.burst, updatedAt: now };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1_000) * this.ratePerSecond);
    bucket.updatedAt = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Milliseconds until the key has a whole attempt in its allowance again; 0 if it has one now. */
  msUntilAllowed(key: string): number {
    const bucket = this.buckets.get(key);
    if (this.unlimited || !bucket) return 0;
    const tokens = bucket.tokens + ((this.now() - bucket.updatedAt) / 1_000) * this.ratePerSecond;
    return tokens >= 1 ? 0 : ((1 - tokens) / this.ratePerSecond) * 1_000;
  }

  /** Seconds until the key may try again, for a `Retry-After` header; at least 1. */
  retryAfterSeconds(key?: string): number {
    if (key === undefined) return Math.max(1, Math.ceil(1 / this.ratePerSecond));
    return Math.max(1, Math.ceil(this.msUntilAllowed(key) / 1_000));
  }

  /** Drops buckets that have refilled completely (they carry no state); true if any room was made. */
  private sweep(now: number): boolean {
    const before = this.buckets.size;
    for (const [key, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1_000) * this.ratePerSecond >= this.burst) this.buckets.delete(key);
    }
    return this.buckets.size < before;
  }
}
