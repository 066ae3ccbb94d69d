import { eventually } from './eventually.js';

/** How long an exactly-once check keeps watching after the expected count arrived: long enough for a duplicate already on its way. */
export const SETTLE_MS = 200;

export interface ExactlyOptions {
  /** How long the expected count may take to arrive. */
  readonly timeoutMs?: number;
  readonly settleMs?: number;
  /** Says what was seen, for the failure message. */
  readonly describe?: () => string;
}

/**
 * Waits until `count()` reaches `expected`, then watches one short settle for
 * a duplicate and fails if the count went past it. Ends as soon as the count
 * is reached, unlike a fixed quiet period.
 */
export async function expectExactly(expected: number, count: () => number, options: ExactlyOptions = {}): Promise<void> {
  const { timeoutMs = 20_000, settleMs = SETTLE_MS, describe = () => '' } = options;
  try {
    await eventually(() => count() >= expected, timeoutMs);
  } catch {
    throw new Error(`expected ${expected}, got ${count()} within ${timeoutMs} ms${describe() ? `: ${describe()}` : ''}`);
  }
  // the one deliberate wait: a duplicate has no event of its own to wait for
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  if (count() !== expected) throw new Error(`expected exactly ${expected}, got ${count()}${describe() ? `: ${describe()}` : ''}`);
}
