import { ManualClock } from '@app/platform';
import { SystemMetrics } from '../counters/system-metrics.js';
import type { ItemSink, SourceSink } from '../sink/item-sink.js';
import { type PolledSource, type StreamingSource, SourceRefusedError, SourceUnavailableError } from './source.js';
import type { SourceDefinition } from './source-definition.js';
import { SourceWorker } from './source-worker.js';
import { FakeAlerts, settle } from '../testing/fake-alerts.js';

/** A polled source that answers as the test says, and records the cursor of every poll. */
class FakeSource implements PolledSource {
  readonly mode = 'polled';
  readonly polls: unknown[] = [];
  failure?: Error;
  closed = false;

  async poll(_sink: ItemSink, cursor: unknown): Promise<void> {
    this.polls.push(cursor);
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** A streaming source whose connection the test drops. */
class FakeStream implements StreamingSource {
  readonly mode = 'streaming';
  connects = 0;
  closes = 0;
  drop?: (error: Error) => void;

  async connect(_sink: ItemSink, lost: (error: Error) => void): Promise<void> {
    this.connects++;
    this.drop = lost;
  }

  waiting(): number {
    return 0;
  }

  async close(): Promise<void> {
    this.closes++;
  }
}

/** Leases as the database would give them: held while `held` says so. */
class FakeLeases {
  held = true;
  holds = 0;
  renewEveryMs = 60_000;

  async hold(): Promise<boolean> {
    this.holds++;
    return this.held;
  }
}

describe(SourceWorker.name, () => {
  const intervalMs = 10_000;
  // with jitter drawn at its top, the waits are 100 then 200; the third failure declares the source down
  const definition = {
    name: 'feed',
    type: 'http',
    intervalMs,
    retry: { attempts: 3, initialDelayMs: 100, multiplier: 2, maxDelayMs: 1_000 },
    item: {},
  } as unknown as SourceDefinition;
  const sink: SourceSink = { store: async () => undefined, setAside: async () => undefined, cursor: async () => ({ value: 41 }) };
  let clock: ManualClock;
  let source: FakeSource;
  let leases: FakeLeases;
  let alerts: FakeAlerts;
  let sut: SourceWorker;

  beforeEach(() => {
    clock = new ManualClock();
    source = new FakeSource();
    leases = new FakeLeases();
    alerts = new FakeAlerts();
    sut = new SourceWorker(definition, source, { sink, leases, alerts, metrics: new SystemMetrics(), clock, random: () => 1 });
  });
  afterEach(async () => {
    await sut.stop();
  });

  /** Moves the clock and lets the worker act on it. */
  async function advance(ms: number): Promise<void> {
    await clock.advance(ms);
    await settle();
  }

  async function failUntilDown(): Promise<void> {
    source.failure = new SourceUnavailableError('connect ECONNREFUSED');
    sut.start();
    await settle();
    await advance(100);
    await advance(200);
  }

  it('polls from the stored cursor while it holds the lease, then again after its interval', async () => {
    sut.start();
    await settle();

    expect(source.polls).toEqual([{ value: 41 }]);
    expect(sut.status()).toMatchObject({ state: 'up', last_success: new Date(clock.now()).toISOString(), consecutive_failures: 0 });

    await advance(intervalMs - 1);
    expect(source.polls).toHaveLength(1);
    await advance(1);
    expect(source.polls).toHaveLength(2);
  });

  it('stands by while another instance holds the lease, and polls once it gets it', async () => {
    leases.held = false;
    leases.renewEveryMs = 5_000;
    sut.start();
    await settle();

    expect(sut.status().state).toBe('standby');
    expect(source.polls).toEqual([]);

    leases.held = true;
    await advance(5_000);
    expect(source.polls).toHaveLength(1);
    expect(sut.status().state).toBe('up');
  });

  it('goes to standby when another instance took the lease, and stops polling', async () => {
    sut.start();
    await settle();
    leases.held = false;

    await advance(intervalMs);

    expect(sut.status().state).toBe('standby');
    expect(source.polls).toHaveLength(1);
  });

  it('renews the lease while it waits out a long interval', async () => {
    leases.renewEveryMs = 4_000;
    sut.start();
    await settle();
    const before = leases.holds;

    await advance(4_000);
    await advance(4_000);
    expect(leases.holds).toBe(before + 2);
    expect(source.polls).toHaveLength(1);
    await advance(2_000);
    expect(source.polls).toHaveLength(2);
  });

  it('retries a failing source after waits that grow by the policy', async () => {
    source.failure = new SourceUnavailableError('connect ECONNREFUSED');
    sut.start();
    await settle();
    expect(sut.status()).toMatchObject({ state: 'starting', consecutive_failures: 1, last_error: 'connect ECONNREFUSED' });
    expect(alerts.raised).toEqual([]);

    await advance(99);
    expect(source.polls).toHaveLength(1);
    await advance(1);
    expect(source.polls).toHaveLength(2);
    expect(sut.status()).toMatchObject({ state: 'starting', consecutive_failures: 2 });
    await advance(199);
    expect(source.polls).toHaveLength(2);
    await advance(1);
    expect(source.polls).toHaveLength(3);
  });

  it("declares the source down after the policy's attempts, alerts once, and probes at the slowest cadence", async () => {
    await failUntilDown();

    expect(sut.status()).toMatchObject({ state: 'down', consecutive_failures: 3 });
    expect(alerts.raised).toEqual([expect.objectContaining({ kind: 'source_down:feed', subject: 'source feed unreachable', severity: 'error' })]);

    await advance(intervalMs - 1);
    expect(source.polls).toHaveLength(3);
    await advance(1);
    expect(source.polls).toHaveLength(4);
    expect(alerts.raised).toHaveLength(1);
  });

  it('is up again once the source answers, resolves the alert and counts failures from zero', async () => {
    await failUntilDown();
    source.failure = undefined;

    await advance(intervalMs);

    expect(sut.status()).toMatchObject({ state: 'up', consecutive_failures: 0, last_success: new Date(clock.now()).toISOString() });
    expect(alerts.resolved).toEqual(['source_down:feed']);
  });

  it('says at once, and once, that a source is blocked by what it served, and resolves that when it passes', async () => {
    source.failure = new SourceRefusedError('the answer is larger than max_body');
    sut.start();
    await settle();
    await advance(100);

    expect(alerts.raised).toEqual([expect.objectContaining({ kind: 'source_blocked:feed', subject: 'source feed blocked' })]);

    source.failure = undefined;
    await advance(200);
    expect(alerts.resolved).toEqual(['source_blocked:feed']);
  });

  it('stops cleanly: no poll after it, the source closed, the state stopped', async () => {
    sut.start();
    await settle();

    await sut.stop();
    await advance(intervalMs);

    expect(source.polls).toHaveLength(1);
    expect(source.closed).toBe(true);
    expect(sut.status().state).toBe('stopped');
  });

  it('keeps a stream connected while it renews the lease, and reconnects after backoff when it drops', async () => {
    const stream = new FakeStream();
    leases.renewEveryMs = 5_000;
    sut = new SourceWorker(definition, stream, { sink, leases, alerts, metrics: new SystemMetrics(), clock, random: () => 1 });
    sut.start();
    await settle();
    expect(stream.connects).toBe(1);
    expect(sut.status().state).toBe('up');

    await advance(5_000);
    expect(leases.holds).toBe(2);
    expect(stream.connects).toBe(1);

    stream.drop!(new Error('socket closed'));
    await settle();
    expect(sut.status()).toMatchObject({ consecutive_failures: 1, last_error: 'socket closed' });
    await advance(99);
    expect(stream.connects).toBe(1);
    await advance(1);
    expect(stream.connects).toBe(2);
    expect(sut.status()).toMatchObject({ state: 'up', consecutive_failures: 0 });
  });
});
