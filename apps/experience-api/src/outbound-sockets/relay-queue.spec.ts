import { Backoff, ManualClock } from '@app/platform';
import { type RelayFlow, type RelayItem, RelayQueue } from './relay-queue.js';

const item = (n: number, text = String(n)): RelayItem => ({ id: `s:c:${n}`, dataText: text });

describe(RelayQueue.name, () => {
  let clock: ManualClock;
  let log: string[];
  const flow: RelayFlow = {
    pause: () => log.push('pause'),
    resume: () => log.push('resume'),
    dropped: (dropped) => log.push(`dropped ${dropped.id}`),
    failed: (failed, _error, retryInMs) => log.push(`failed ${failed.id}, retry in ${retryInMs}`),
  };
  const limits = { pauseAtMessages: 4, pauseAtBytes: 1_000, maxMessages: 6, maxBytes: 2_000 };

  beforeEach(() => {
    clock = new ManualClock(0);
    log = [];
  });

  it('publishes one at a time, in arrival order', async () => {
    const started: string[] = [];
    const finish: Array<() => void> = [];
    const sut = new RelayQueue(
      (next) =>
        new Promise<void>((resolve) => {
          started.push(next.id);
          finish.push(resolve);
        }),
      flow,
      clock,
      limits,
    );
    sut.push(item(1));
    sut.push(item(2));
    sut.push(item(3));
    await clock.advance(0);
    expect(started).toEqual(['s:c:1']);

    for (let i = 0; i < 3; i++) {
      finish[i]();
      await clock.advance(0);
    }
    expect(started).toEqual(['s:c:1', 's:c:2', 's:c:3']);
  });

  it('pauses reading at the bound, resumes at half, and drops what still comes over the hard bound', async () => {
    let release!: () => void;
    let gate = new Promise<void>((resolve) => (release = resolve));
    const sut = new RelayQueue(() => gate, flow, clock, limits);
    for (let n = 1; n <= 7; n++) sut.push(item(n));

    expect(log).toEqual(['pause', 'dropped s:c:7']);
    expect(sut.paused).toBe(true);

    // each publish resolves at once from here on
    release();
    gate = Promise.resolve();
    await clock.advance(0);
    expect(log).toEqual(['pause', 'dropped s:c:7', 'resume']);
    expect(sut.waiting).toBe(0);
  });

  it('retries a failed publish with backoff, the same item, before the next', async () => {
    const attempts: string[] = [];
    let failures = 2;
    const sut = new RelayQueue(
      async (next) => {
        attempts.push(next.id);
        if (next.id === 's:c:1' && failures-- > 0) throw new Error('database unavailable');
      },
      flow,
      clock,
      limits,
      new Backoff({ initialDelayMs: 100, maxDelayMs: 1_000, jitter: false }),
    );
    sut.push(item(1));
    sut.push(item(2));
    await clock.advance(0);
    expect(attempts).toEqual(['s:c:1']);
    await clock.advance(100);
    expect(attempts).toEqual(['s:c:1', 's:c:1']);
    await clock.advance(200);

    expect(attempts).toEqual(['s:c:1', 's:c:1', 's:c:1', 's:c:2']);
    expect(log).toEqual(['failed s:c:1, retry in 100', 'failed s:c:1, retry in 200']);
  });

  it('publishes nothing more once stopped', async () => {
    const published: string[] = [];
    const sut = new RelayQueue(
      async (next) => {
        published.push(next.id);
        throw new Error('down');
      },
      flow,
      clock,
      limits,
      new Backoff({ initialDelayMs: 100, maxDelayMs: 1_000, jitter: false }),
    );
    sut.push(item(1));
    await clock.advance(0);
    sut.stop();
    sut.push(item(2));
    await clock.advance(10_000);

    expect(published).toEqual(['s:c:1']);
  });
});
