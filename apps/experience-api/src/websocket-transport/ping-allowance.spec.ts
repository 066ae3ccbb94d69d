import { ManualClock } from '@app/platform';
import { PingAllowance } from './ping-allowance.js';

describe(PingAllowance.name, () => {
  let clock: ManualClock;

  beforeEach(() => {
    clock = new ManualClock();
  });

  it('allows a burst of a second of pings at once, then refuses', () => {
    const sut = new PingAllowance(3, clock);

    expect([sut.tryTake(), sut.tryTake(), sut.tryTake(), sut.tryTake()]).toEqual([true, true, true, false]);
  });

  it('refills at the rate, up to a burst', async () => {
    const sut = new PingAllowance(4, clock);
    for (let i = 0; i < 4; i++) sut.tryTake();

    await clock.advance(250);
    expect([sut.tryTake(), sut.tryTake()]).toEqual([true, false]);
    await clock.advance(60_000);
    expect(Array.from({ length: 5 }, () => sut.tryTake())).toEqual([true, true, true, true, false]);
  });

  it('keeps refusing a peer that pings faster than the rate', async () => {
    const sut = new PingAllowance(10, clock);
    const answers: boolean[] = [];
    // 100 pings a second for two seconds
    for (let i = 0; i < 200; i++) {
      answers.push(sut.tryTake());
      await clock.advance(10);
    }

    expect(answers.filter(Boolean).length).toBeLessThanOrEqual(10 + 20 + 1);
  });
});
