import { sleep } from './clock.js';
import { ManualClock } from './manual-clock.js';

describe(ManualClock.name, () => {
  it('runs timers in due order as time moves, each at its own time', async () => {
    const sut = new ManualClock(0);
    const ran: string[] = [];
    sut.setTimer(() => ran.push(`b@${sut.now()}`), 20);
    sut.setTimer(() => ran.push(`a@${sut.now()}`), 10);
    await sut.advance(15);
    expect(ran).toEqual(['a@10']);
    await sut.advance(5);
    expect(ran).toEqual(['a@10', 'b@20']);
    expect(sut.now()).toBe(20);
  });

  it('never runs a cleared timer', async () => {
    const sut = new ManualClock(0);
    let ran = false;
    sut.clearTimer(sut.setTimer(() => (ran = true), 5));
    await sut.advance(10);
    expect(ran).toBe(false);
    expect(sut.pending).toBe(0);
  });

  it('ends a sleep on it when time passes, or at once on abort', async () => {
    const sut = new ManualClock(0);
    let woke = false;
    const done = sleep(1_000, undefined, sut).then(() => (woke = true));
    await sut.advance(999);
    expect(woke).toBe(false);
    await sut.advance(1);
    await done;
    expect(woke).toBe(true);

    const abort = new AbortController();
    const aborted = sleep(1_000, abort.signal, sut);
    abort.abort();
    await aborted;
    expect(sut.pending).toBe(0);
  });
});
