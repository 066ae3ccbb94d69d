import { RateLimiter } from './rate-limiter.js';

describe(RateLimiter.name, () => {
  let clock: number;
  const now = (): number => clock;

  beforeEach(() => {
    clock = 1_000_000;
  });

  function takeMany(sut: RateLimiter, address: string, count: number): boolean[] {
    return Array.from({ length: count }, () => sut.tryTake(address));
  }

  it('allows a burst, then refuses', () => {
    const sut = new RateLimiter(1, 3, 100, now);

    expect(takeMany(sut, '198.51.100.1', 4)).toEqual([true, true, true, false]);
    expect(sut.tryTake('198.51.100.1')).toBe(false);
  });

  it('says how long an address that used up its allowance has to wait', () => {
    const sut = new RateLimiter(4, 2, 100, now);
    expect(sut.msUntilAllowed('198.51.100.1')).toBe(0);
    takeMany(sut, '198.51.100.1', 2);

    expect(sut.msUntilAllowed('198.51.100.1')).toBe(250);
    clock += 100;
    expect(sut.msUntilAllowed('198.51.100.1')).toBeCloseTo(150);
    clock += 150;
    expect(sut.msUntilAllowed('198.51.100.1')).toBe(0);
    expect(sut.tryTake('198.51.100.1')).toBe(true);
  });

  it('keeps a separate allowance per address', () => {
    const sut = new RateLimiter(1, 2, 100, now);
    takeMany(sut, '198.51.100.1', 2);

    expect(sut.tryTake('198.51.100.1')).toBe(false);
    expect(takeMany(sut, '198.51.100.2', 3)).toEqual([true, true, false]);
  });

  it('refills at the given rate as time passes', () => {
    const sut = new RateLimiter(2, 2, 100, now);
    takeMany(sut, '198.51.100.1', 2);

    clock += 499;
    expect(sut.tryTake('198.51.100.1')).toBe(false);
    clock += 1;
    expect(sut.tryTake('198.51.100.1')).toBe(true);
    expect(sut.tryTake('198.51.100.1')).toBe(false);
    clock += 1_000;
    expect(takeMany(sut, '198.51.100.1', 3)).toEqual([true, true, false]);
  });

  it('refills no further than the burst, however long the address was idle', () => {
    const sut = new RateLimiter(10, 3, 100, now);
    takeMany(sut, '198.51.100.1', 3);

    clock += 3_600_000;

    expect(takeMany(sut, '198.51.100.1', 4)).toEqual([true, true, true, false]);
  });

  it('never refuses when the rate is 0', () => {
    const sut = new RateLimiter(0, 1, 1, now);

    expect(takeMany(sut, '198.51.100.1', 1_000).every(Boolean)).toBe(true);
    expect(takeMany(sut, '198.51.100.2', 10).every(Boolean)).toBe(true);
  });

  it('never refuses, and never asks to wait, when the burst is 0', () => {
    const sut = new RateLimiter(50, 0, 1, now);

    expect(takeMany(sut, '198.51.100.1', 1_000).every(Boolean)).toBe(true);
    expect(takeMany(sut, '198.51.100.2', 10).every(Boolean)).toBe(true);
    expect(sut.msUntilAllowed('198.51.100.1')).toBe(0);
  });

  it('advises retrying after the time one handshake takes to refill, at least a second', () => {
    expect(new RateLimiter(0.25, 1, 100, now).retryAfterSeconds()).toBe(4);
    expect(new RateLimiter(0.4, 1, 100, now).retryAfterSeconds()).toBe(3);
    expect(new RateLimiter(50, 1, 100, now).retryAfterSeconds()).toBe(1);
  });

  describe('address table bound', () => {
    it('refuses new addresses while the table is full of busy ones, but still serves those in it', () => {
      const sut = new RateLimiter(1, 2, 2, now);
      sut.tryTake('198.51.100.1');
      sut.tryTake('198.51.100.2');

      expect(sut.tryTake('198.51.100.3')).toBe(false);
      clock += 500;
      // half refilled is still busy
      expect(sut.tryTake('198.51.100.3')).toBe(false);
      expect(sut.tryTake('198.51.100.1')).toBe(true);
    });

    it('makes room for a new address once buckets in the table have refilled', () => {
      const sut = new RateLimiter(1, 2, 2, now);
      sut.tryTake('198.51.100.1');
      sut.tryTake('198.51.100.2');
      expect(sut.tryTake('198.51.100.3')).toBe(false);

      clock += 1_000;

      expect(sut.tryTake('198.51.100.3')).toBe(true);
    });

    it('drops only the refilled buckets, so busy addresses keep their state', () => {
      const sut = new RateLimiter(1, 2, 2, now);
      sut.tryTake('198.51.100.1');
      takeMany(sut, '198.51.100.2', 2);
      clock += 1_000;
      // .2 is at 1 of 2 here; taking it down to 0 keeps it busy
      expect(sut.tryTake('198.51.100.2')).toBe(true);

      expect(sut.tryTake('198.51.100.3')).toBe(true); // room made by .1, which had refilled
      expect(sut.tryTake('198.51.100.4')).toBe(false); // .2 and .3 are busy
      expect(sut.tryTake('198.51.100.2')).toBe(false); // .2 was not forgotten and given a fresh burst
    });
  });
});
