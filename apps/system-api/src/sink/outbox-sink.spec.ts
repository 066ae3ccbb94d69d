import type { AlertService } from '@app/alerting';
import { SystemMetrics } from '../counters/system-metrics.js';
import { ItemsRefusedError, type OutboxItem, type OutboxRepository } from '../outbox/outbox.repository.js';
import { ItemMapper } from '../sources/item-mapper.js';
import { STORE_CHUNK, OutboxSink } from './outbox-sink.js';

/** An outbox that records each store call and refuses items the test names, as the database does. */
class FakeOutbox {
  readonly calls: Array<{ ids: string[]; cursor: unknown }> = [];
  readonly deadLetters: Array<{ item: string; reason: string }> = [];
  readonly cursors = new Map<string, unknown>();
  refuses = (_item: OutboxItem) => false;
  away = false;

  async store(source: string, items: readonly OutboxItem[], cursor: unknown): Promise<number> {
    if (this.away) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
    if (items.some((item) => this.refuses(item))) throw new ItemsRefusedError('the database refused the item: invalid input syntax for type json');
    this.calls.push({ ids: items.map((item) => item.id), cursor });
    if (cursor !== undefined) this.cursors.set(source, cursor);
    return items.length;
  }

  /** Like the database: the same item of a source is set aside once. */
  async deadLetter(_source: string, item: string, reason: string): Promise<boolean> {
    if (this.deadLetters.some((letter) => letter.item === item)) return false;
    this.deadLetters.push({ item, reason });
    return true;
  }

  async cursor(source: string): Promise<unknown> {
    return this.cursors.get(source);
  }
}

describe(OutboxSink.name, () => {
  let outbox: FakeOutbox;
  let alerts: { raised: Array<{ kind: string }>; raise(alert: { kind: string }): void; resolve(): void };
  let nudges: number;
  let sut: OutboxSink;

  beforeEach(() => {
    outbox = new FakeOutbox();
    nudges = 0;
    alerts = {
      raised: [],
      raise(alert) {
        this.raised.push(alert);
      },
      resolve: () => undefined,
    };
    sut = new OutboxSink('feed', new ItemMapper('feed', { id: 'ref' }), {
      outbox: outbox as unknown as OutboxRepository,
      alerts: alerts as unknown as AlertService,
      metrics: new SystemMetrics(),
      forwarder: { nudge: () => nudges++ },
    });
  });

  const items = (count: number) => Array.from({ length: count }, (_, n) => ({ ref: `r-${n}` }));

  it('stores a big batch in chunks, in order, moving the cursor with the last chunk only', async () => {
    await sut.store(items(2 * STORE_CHUNK + 200), { value: 'end' });

    expect(outbox.calls.map((call) => call.ids.length)).toEqual([STORE_CHUNK, STORE_CHUNK, 200]);
    expect(outbox.calls.map((call) => call.cursor)).toEqual([undefined, undefined, { value: 'end' }]);
    expect(outbox.calls.flatMap((call) => call.ids)).toEqual(items(2 * STORE_CHUNK + 200).map((item) => `feed:${item.ref}`));
  });

  it('moves the cursor of an empty batch', async () => {
    await sut.store([], { etag: '"v2"' });

    expect(outbox.calls).toEqual([{ ids: [], cursor: { etag: '"v2"' } }]);
  });

  it('sets aside the one item the database refuses, stores the others of its chunk one by one, then moves the cursor', async () => {
    outbox.refuses = (item) => item.id === 'feed:r-1';

    await sut.store(items(3), { value: 3 });

    expect(outbox.calls).toEqual([
      { ids: ['feed:r-0'], cursor: undefined },
      { ids: ['feed:r-2'], cursor: undefined },
      { ids: [], cursor: { value: 3 } },
    ]);
    expect(outbox.deadLetters).toEqual([{ item: '{"id":"feed:r-1","data":{"ref":"r-1"}}', reason: expect.stringMatching(/^the database refused the item/) }]);
    expect(alerts.raised).toEqual([expect.objectContaining({ kind: 'item_malformed' })]);
  });

  it('sets aside an item nested 20,000 deep, keeping its text whole, and stores the rest', async () => {
    const deep = JSON.parse(`{"ref": "deep", "v": ${'['.repeat(20_000)}0${']'.repeat(20_000)}}`) as unknown;

    await sut.store([{ ref: 'a' }, deep, { ref: 'b' }]);

    expect(outbox.calls.flatMap((call) => call.ids)).toEqual(['feed:a', 'feed:b']);
    expect(outbox.deadLetters).toHaveLength(1);
    expect(outbox.deadLetters[0].item).toHaveLength(`{"ref":"deep","v":}`.length + 40_001);
    expect(outbox.deadLetters[0].reason).toBe('the item nests deeper than 256 levels');
  });

  it('fails the whole batch when the database is away, so that nothing is acknowledged and nothing set aside', async () => {
    outbox.away = true;

    await expect(sut.store(items(3), { value: 3 })).rejects.toThrow(/ECONNREFUSED/);
    expect(outbox.deadLetters).toEqual([]);
  });

  it('maps each item, stores it under the source with its cursor, and nudges the forwarder', async () => {
    await sut.store(
      [
        { ref: 'a', n: 1 },
        { ref: 'b', n: 2 },
      ],
      { value: 2 },
    );

    expect(outbox.calls).toEqual([{ ids: ['feed:a', 'feed:b'], cursor: { value: 2 } }]);
    expect(await sut.cursor()).toEqual({ value: 2 });
    expect(nudges).toBe(1);
  });

  it('sets aside an item that cannot become an entity, with the reason, and stores the others', async () => {
    await sut.store([{ ref: 'a' }, { ref: {} }, { ref: 'b' }]);

    expect(outbox.calls.flatMap((call) => call.ids)).toEqual(['feed:a', 'feed:b']);
    expect(outbox.deadLetters).toEqual([{ item: '{"ref":{}}', reason: 'the id expression must give a string or a number' }]);
    expect(alerts.raised).toEqual([expect.objectContaining({ kind: 'item_malformed' })]);
  });

  it('raises no second alert for an item it set aside already', async () => {
    await sut.setAside('{"broken": ', 'the answer is not JSON');
    await sut.setAside('{"broken": ', 'the answer is not JSON');

    expect(outbox.deadLetters).toHaveLength(1);
    expect(alerts.raised).toHaveLength(1);
  });

  it('does not nudge the forwarder when nothing new was stored', async () => {
    await sut.store([{ ref: {} }], { value: 1 });

    expect(outbox.calls).toEqual([{ ids: [], cursor: { value: 1 } }]);
    expect(nudges).toBe(0);
  });
});
