interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * A token bucket per client address: `ratePerSecond` handshakes a second, in
 * bursts of up to `burst`. The table of addresses is bounded; when it is full
 * of addresses that are all still busy, new addresses are refused rather than
 * letting a spread-out flood grow memory.
 */
export class HandshakeRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly maxAddresses = 100_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Takes one handshake from the address's allowance; false when it has none left. */
  tryTake(address: string): boolean {
    if (this.ratePerSecond === 0) return true;
    const now = this.now();
    let bucket = this.buckets.get(address);
    if (!bucket) {
      if (this.buckets.size >= this.maxAddresses && !this.sweep(now)) return false;
      bucket = { tokens: this.burst, updatedAt: now };
      this.buckets.set(address, bucket);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.updatedAt) / 1_000) * this.ratePerSecond);
    bucket.updatedAt = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Milliseconds until the address has a whole handshake in its allowance again; 0 if it has one now. */
  msUntilAllowed(address: string): number {
    const bucket = this.buckets.get(address);
    if (this.ratePerSecond === 0 || !bucket) return 0;
    const tokens = bucket.tokens + ((this.now() - bucket.updatedAt) / 1_000) * this.ratePerSecond;
    return tokens >= 1 ? 0 : ((1 - tokens) / this.ratePerSecond) * 1_000;
  }

  /** Seconds until the address may try again. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(1 / this.ratePerSecond));
  }

  /** Drops buckets that have refilled completely (they carry no state); true if any room was made. */
  private sweep(now: number): boolean {
    const before = this.buckets.size;
    for (const [address, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.updatedAt) / 1_000) * this.ratePerSecond >= this.burst) this.buckets.delete(address);
    }
    return this.buckets.size < before;
  }
}
