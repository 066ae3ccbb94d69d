import { Backoff, backoffDelay } from './backoff.js';

describe('backoffDelay', () => {
  const policy = { initialDelayMs: 100, maxDelayMs: 1_000, multiplier: 3, jitter: false };

  it('grows by the multiplier from the first failure and stops at the cap', () => {
    expect([1, 2, 3, 4].map((failures) => backoffDelay(policy, failures))).toEqual([100, 300, 900, 1_000]);
  });

  it('doubles when no multiplier is given', () => {
    expect(backoffDelay({ initialDelayMs: 250, maxDelayMs: 10_000, jitter: false }, 3)).toBe(1_000);
  });

  it('spreads jittered waits over the upper half of the step', () => {
    const jittered = { initialDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffDelay(jittered, 2, () => 0)).toBe(100);
    expect(backoffDelay(jittered, 2, () => 1)).toBe(200);
  });
});

describe(Backoff.name, () => {
  it('counts failures and starts over after a success', () => {
    const sut = new Backoff({ initialDelayMs: 10, maxDelayMs: 1_000, jitter: false });
    expect([sut.fail(), sut.fail(), sut.fail()]).toEqual([10, 20, 40]);
    sut.succeed();
    expect(sut.failures).toBe(0);
    expect(sut.fail()).toBe(10);
  });
});
