import { type Clock, systemClock } from '@app/platform';

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
    private readonly clock: Pick<Clock, 'now'> = systemClock,
  ) {
    this.tokens = perSecond;
    this.updatedAt = clock.now();
  }

  /** Takes one ping from the allowance; false when none is left. */
  tryTake(): boolean {
    const now = this.clock.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.updatedAt) / 1_000) * this.perSecond);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
