import { PingAllowance } from './ping-allowance.js';

describe(PingAllowance.name, () => {
  let clock: number;
  const now = { now: (): number => clock };

  beforeEach(() => {
    clock = 5_000;
  });

  it('allows a burst of a second of pings at once, then refuses', () => {
    const sut = new PingAllowance(3, now);

    expect([sut.tryTake(), sut.tryTake(), sut.tryTake(), sut.tryTake()]).toEqual([true, true, true, false]);
  });

  it('refills at the rate, up to a burst', () => {
    const sut = new PingAllowance(4, now);
    for (let i = 0; i < 4; i++) sut.tryTake();

    clock += 250;
    expect([sut.tryTake(), sut.tryTake()]).toEqual([true, false]);
    clock += 60_000;
    expect(Array.from({ length: 5 }, () => sut.tryTake())).toEqual([true, true, true, true, false]);
  });

  it('keeps refusing a peer that pings faster than the rate', () => {
    const sut = new PingAllowance(10, now);
    const answers: boolean[] = [];
    // 100 pings a second for two seconds
    for (let i = 0; i < 200; i++) {
      answers.push(sut.tryTake());
      clock += 10;
    }

    expect(answers.filter(Boolean).length).toBeLessThanOrEqual(10 + 20 + 1);
  });
});
