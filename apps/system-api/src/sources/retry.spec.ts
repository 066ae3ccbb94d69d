import { backoffDelay, sleep } from './retry.js';
import type { RetryPolicy } from './source-definition.js';

const policy: RetryPolicy = { attempts: 5, initialDelayMs: 100, multiplier: 2, maxDelayMs: 1_000 };

describe(backoffDelay.name, () => {
  const sut = backoffDelay;
  const top = () => 1;
  const bottom = () => 0;

  it('starts at the initial delay and multiplies it with every further failure', () => {
    expect([1, 2, 3, 4].map((failures) => sut(policy, failures, top))).toEqual([100, 200, 400, 800]);
  });

  it('never waits longer than the maximum delay', () => {
    expect([5, 6, 20, 1_000].map((failures) => sut(policy, failures, top))).toEqual([1_000, 1_000, 1_000, 1_000]);
  });

  it('treats no failures yet like the first', () => {
    expect(sut(policy, 0, top)).toBe(100);
  });

  it('keeps a constant delay with a multiplier of 1', () => {
    const flat = { ...policy, multiplier: 1 };

    expect([1, 2, 7].map((failures) => sut(flat, failures, top))).toEqual([100, 100, 100]);
  });

  it('jitters each delay within half to all of its base', () => {
    expect(sut(policy, 3, bottom)).toBe(200);
    expect(sut(policy, 3, () => 0.5)).toBe(300);
    expect(sut(policy, 10, bottom)).toBe(500);
    for (let draw = 0; draw < 1; draw += 0.05) {
      const delay = sut(policy, 2, () => draw);
      expect(delay).toBeGreaterThanOrEqual(100);
      expect(delay).toBeLessThanOrEqual(200);
    }
  });

  it('jitters with Math.random when no source of randomness is given', () => {
    const delays = Array.from({ length: 200 }, () => sut(policy, 4));

    expect(Math.min(...delays)).toBeGreaterThanOrEqual(400);
    expect(Math.max(...delays)).toBeLessThanOrEqual(800);
    // instances must not retry in step
    expect(new Set(delays).size).toBeGreaterThan(1);
  });
});

describe(sleep.name, () => {
  const sut = sleep;

  it('resolves after the delay', async () => {
    const started = Date.now();

    await sut(60, new AbortController().signal);

    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('resolves at once when the signal aborts, and at once when it already has', async () => {
    const stop = new AbortController();
    const started = Date.now();

    const waiting = sut(10_000, stop.signal);
    setTimeout(() => stop.abort(), 20);
    await waiting;
    await sut(10_000, stop.signal);

    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
