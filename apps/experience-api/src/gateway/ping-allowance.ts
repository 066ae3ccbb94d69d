/**
 * The pings one consumer may send: `perSecond` a second, in bursts of as
 * many (a token bucket). A peer that pings faster is flooding: every ping
 * costs a pong in our send buffer.
 */
export class PingAllowance {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = perSecond;
    this.updatedAt = now();
  }

  /** Takes one ping from the allowance; false when none is left. */
  tryTake(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.updatedAt) / 1_000) * this.perSecond);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
