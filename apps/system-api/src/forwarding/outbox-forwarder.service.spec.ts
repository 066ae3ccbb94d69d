import type { AlertService } from '@app/alerting';
import { ManualClock } from '@app/platform';
import type { SystemConfig } from '../config/system.config.js';
import type { SourceLeases } from '../leases/source-leases.js';
import { SystemMetrics } from '../counters/system-metrics.js';
import type { OutboxDepth, OutboxItem, OutboxRepository, PendingItem } from '../outbox/outbox.repository.js';
import { ExperienceApiClient, type ForwardOutcome } from './experience-api.client.js';
import { OutboxForwarder } from './outbox-forwarder.service.js';
import { FakeAlerts, settle } from '../testing/fake-alerts.js';

interface Row extends PendingItem {
  delivered: boolean;
  failed?: string;
  attempts: number;
  serverErrors: number;
}

/** The outbox in memory, with what the forwarder did to each item. */
class FakeOutbox implements OutboxRepository {
  readonly rows: Row[] = [];

  add(source: string, ...ids: string[]): void {
    for (const id of ids)
      this.rows.push({ position: String(this.rows.length + 1), source, id, groups: null, data: { id }, delivered: false, attempts: 0, serverErrors: 0 });
  }

  row(id: string): Row {
    return this.rows.find((row) => row.id === id)!;
  }

  async pending(sources: readonly string[], perSource: number): Promise<PendingItem[]> {
    return sources.flatMap((source) => this.rows.filter((row) => row.source === source && !row.delivered && row.failed === undefined).slice(0, perSource));
  }

  /** Each call of markDelivered: the positions it marked together. */
  readonly deliveries: string[][] = [];

  async markDelivered(positions: readonly string[]): Promise<void> {
    this.deliveries.push([...positions]);
    for (const position of positions) this.at(position).delivered = true;
  }

  async markFailed(position: string, error: string): Promise<void> {
    this.at(position).failed = error;
  }

  async noteAttempt(position: string): Promise<void> {
    this.at(position).attempts++;
  }

  async noteServerError(position: string): Promise<number> {
    return ++this.at(position).serverErrors;
  }

  async prune(): Promise<number> {
    return 0;
  }

  async store(_source: string, _items: readonly OutboxItem[]): Promise<number> {
    throw new Error('the forwarder does not store');
  }

  async deadLetter(): Promise<boolean> {
    throw new Error('the forwarder does not set items aside');
  }

  async cursor(): Promise<unknown> {
    return undefined;
  }

  async depth(): Promise<OutboxDepth> {
    return { pending: this.rows.filter((row) => !row.delivered && row.failed === undefined).length, deadLetters: 0 };
  }

  private at(position: string): Row {
    return this.rows.find((row) => row.position === position)!;
  }
}

/** experience-api as the test scripts it: each id answers from its list of outcomes, then accepts. */
class FakeExperienceApi extends ExperienceApiClient {
  readonly sent: string[] = [];
  /** The ids of each call, as offered together. */
  readonly batches: string[][] = [];
  readonly answers = new Map<string, ForwardOutcome[]>();
  /** Answers every item with this while set. */
  away?: ForwardOutcome;

  async publishAll(items: readonly PendingItem[]): Promise<ForwardOutcome[]> {
    this.batches.push(items.map((item) => item.id));
    const outcomes: ForwardOutcome[] = [];
    for (const item of items) {
      this.sent.push(item.id);
      const outcome = this.away ?? this.answers.get(item.id)?.shift() ?? { kind: 'accepted' };
      outcomes.push(outcome);
      if (outcome.kind !== 'accepted' && outcome.kind !== 'rejected') break;
    }
    return outcomes;
  }
}

describe(OutboxForwarder.name, () => {
  const unavailable: ForwardOutcome = { kind: 'unavailable', reason: 'ECONNREFUSED' };
  const serverError: ForwardOutcome = { kind: 'server_error', reason: 'HTTP 500 internal_error: boom' };
  const config = {
    forwardBatch: 10,
    forwardRetryMaxMs: 1_000,
    forwardServerErrorAttempts: 3,
    experienceApiAlertAfterMs: 1_500,
    experienceApiUrl: new URL('http://experience.test:3000'),
    outboxRetentionMs: 86_400_000,
  } as SystemConfig;
  let clock: ManualClock;
  let outbox: FakeOutbox;
  let experience: FakeExperienceApi;
  let held: string[];
  let alerts: FakeAlerts;
  let sut: OutboxForwarder;

  beforeEach(() => {
    clock = new ManualClock();
    outbox = new FakeOutbox();
    experience = new FakeExperienceApi();
    held = ['a', 'b'];
    alerts = new FakeAlerts();
    const leases = { held: () => held } as unknown as SourceLeases;
    sut = new OutboxForwarder(outbox, experience, leases, alerts as unknown as AlertService, new SystemMetrics(), config, clock);
  });
  afterEach(async () => {
    await sut.beforeApplicationShutdown();
  });

  async function start(): Promise<void> {
    sut.onApplicationBootstrap();
    await settle();
  }

  /** Moves the clock and lets the forwarder act on it. */
  async function advance(ms: number): Promise<void> {
    await clock.advance(ms);
    await settle();
  }

  const sentOf = (source: string) => experience.sent.filter((id) => id.startsWith(`${source}:`));

  it('forwards the items of each source in order, and marks each delivered', async () => {
    outbox.add('a', 'a:1', 'a:2', 'a:3');
    outbox.add('b', 'b:1', 'b:2');

    await start();

    expect(sentOf('a')).toEqual(['a:1', 'a:2', 'a:3']);
    expect(sentOf('b')).toEqual(['b:1', 'b:2']);
    expect(outbox.rows.every((row) => row.delivered)).toBe(true);
  });

  it('offers each source its pending items as one batch, and marks the batch delivered in one statement', async () => {
    outbox.add('a', ...Array.from({ length: 25 }, (_, n) => `a:${n}`));
    await start();

    expect(experience.batches).toEqual([
      Array.from({ length: 10 }, (_, n) => `a:${n}`),
      Array.from({ length: 10 }, (_, n) => `a:${n + 10}`),
      Array.from({ length: 5 }, (_, n) => `a:${n + 20}`),
    ]);
    expect(outbox.deliveries.map((positions) => positions.length)).toEqual([10, 10, 5]);
    expect(outbox.rows.every((row) => row.delivered)).toBe(true);
  });

  it('marks delivered what was accepted before an item that must wait, and offers that item and the rest again, in order', async () => {
    outbox.add('a', 'a:1', 'a:2', 'a:3', 'a:4');
    experience.answers.set('a:3', [unavailable]);
    await start();
    expect(experience.batches).toEqual([['a:1', 'a:2', 'a:3', 'a:4']]);
    expect(outbox.deliveries).toEqual([[outbox.row('a:1').position, outbox.row('a:2').position]]);
    expect(outbox.row('a:3')).toMatchObject({ delivered: false, attempts: 1 });
    expect(outbox.row('a:4')).toMatchObject({ delivered: false, attempts: 0 });

    await advance(250);
    expect(experience.batches).toEqual([
      ['a:1', 'a:2', 'a:3', 'a:4'],
      ['a:3', 'a:4'],
    ]);
    expect(outbox.rows.every((row) => row.delivered)).toBe(true);
  });

  it('makes refused items of a batch dead letters and delivers the rest of it', async () => {
    outbox.add('a', 'a:1', 'a:2', 'a:3');
    experience.answers.set('a:2', [{ kind: 'rejected', reason: 'HTTP 400 bad_request: groups must not be empty' }]);
    await start();
    expect(experience.batches).toEqual([['a:1', 'a:2', 'a:3']]);
    expect(outbox.deliveries).toEqual([[outbox.row('a:1').position, outbox.row('a:3').position]]);
    expect(outbox.row('a:2').failed).toBe('HTTP 400 bad_request: groups must not be empty');
  });

  it('forwards only the sources this instance holds', async () => {
    held = ['a'];
    outbox.add('a', 'a:1');
    outbox.add('b', 'b:1');

    await start();

    expect(experience.sent).toEqual(['a:1']);
    expect(outbox.row('b:1').delivered).toBe(false);
  });

  it('starts at once when nudged about new items', async () => {
    await start();
    outbox.add('a', 'a:1');

    sut.nudge();
    await settle();

    expect(experience.sent).toEqual(['a:1']);
  });

  it('keeps the item while experience-api is away, retrying after waits that double up to the maximum, then delivers it', async () => {
    outbox.add('a', 'a:1');
    experience.away = unavailable;
    await start();
    expect(sut.experienceApiReachable).toBe(false);

    for (const wait of [250, 500, 1_000, 1_000]) {
      const tries = experience.sent.length;
      await advance(wait - 1);
      expect(experience.sent).toHaveLength(tries);
      await advance(1);
      expect(experience.sent).toHaveLength(tries + 1);
    }
    expect(outbox.row('a:1')).toMatchObject({ delivered: false, attempts: 5 });

    experience.away = undefined;
    await advance(1_000);

    expect(outbox.row('a:1').delivered).toBe(true);
    expect(sut.experienceApiReachable).toBe(true);
  });

  it('alerts once experience-api has been away for the configured time, and resolves that when it answers', async () => {
    outbox.add('a', 'a:1');
    experience.away = unavailable;
    await start();
    await advance(250);
    await advance(500);
    expect(alerts.raised).toEqual([]);

    await advance(1_000);
    expect(alerts.raised).toEqual([expect.objectContaining({ kind: 'experience_api_unreachable', severity: 'critical' })]);
    await advance(1_000);
    expect(alerts.raised).toHaveLength(1);

    experience.away = undefined;
    await advance(1_000);
    expect(alerts.resolved).toEqual(['experience_api_unreachable']);
  });

  it('makes an item experience-api refuses (a 4xx) a dead letter at once, and forwards the next', async () => {
    outbox.add('a', 'a:1', 'a:2');
    experience.answers.set('a:1', [{ kind: 'rejected', reason: 'HTTP 400 invalid_request: data is required' }]);

    await start();

    expect(experience.sent).toEqual(['a:1', 'a:2']);
    expect(outbox.row('a:1')).toMatchObject({ delivered: false, failed: 'HTTP 400 invalid_request: data is required' });
    expect(outbox.row('a:2').delivered).toBe(true);
    expect(alerts.raised).toEqual([expect.objectContaining({ kind: 'item_rejected' })]);
  });

  it('holds back only the source of an item that got a 5xx, tries it again after backoff, and makes it a dead letter after the configured attempts', async () => {
    outbox.add('a', 'a:1', 'a:2');
    outbox.add('b', 'b:1');
    experience.answers.set('a:1', [serverError, serverError, serverError]);

    await start();
    expect(sentOf('a')).toEqual(['a:1']);
    expect(outbox.row('b:1').delivered).toBe(true);

    await advance(249);
    expect(sentOf('a')).toEqual(['a:1']);
    await advance(1);
    expect(sentOf('a')).toEqual(['a:1', 'a:1']);
    await advance(500);
    expect(sentOf('a')).toEqual(['a:1', 'a:1', 'a:1', 'a:2']);

    expect(outbox.row('a:1')).toMatchObject({ serverErrors: 3, failed: serverError.reason });
    expect(outbox.row('a:2').delivered).toBe(true);
    expect(sut.experienceApiReachable).toBe(true);
  });

  it('stops cleanly, with no attempt after it', async () => {
    outbox.add('a', 'a:1');
    experience.away = unavailable;
    await start();

    await sut.beforeApplicationShutdown();
    await advance(10_000);

    expect(experience.sent).toEqual(['a:1']);
    expect(clock.pending).toBe(0);
  });
});
