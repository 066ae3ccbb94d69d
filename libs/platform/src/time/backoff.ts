/** How waits grow between attempts. */
export interface BackoffPolicy {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  /** Growth per failure; 2 when not given. */
  readonly multiplier?: number;
  /** Spread each wait over its upper half so that instances do not retry in step; on when not given. */
  readonly jitter?: boolean;
}

/** The wait before attempt `failures + 1`: exponential from `initialDelayMs`, capped at `maxDelayMs`. */
export function backoffDelay(policy: BackoffPolicy, failures: number, random: () => number = Math.random): number {
  const multiplier = policy.multiplier ?? 2;
  const base = Math.min(policy.maxDelayMs, policy.initialDelayMs * multiplier ** Math.max(0, failures - 1));
  return policy.jitter === false ? base : Math.round(base * (0.5 + random() * 0.5));
}

/** Counts consecutive failures and says how long to wait after each; a success starts over. */
export class Backoff {
  private count = 0;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  /** Records a failure and returns the wait before the next attempt. */
  fail(): number {
    this.count++;
    return backoffDelay(this.policy, this.count, this.random);
  }

  succeed(): void {
    this.count = 0;
  }

  get failures(): number {
    return this.count;
  }
}
