import { EventEmitter2 } from '@nestjs/event-emitter';
import { type BroadcastResult, SocketRegistry } from '@app/socket-registry';
import type { EntityHistory } from '../history/entity-history.service.js';
import type { HistoryEntry, StoredEntity } from '../history/history-entry.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { RawJson } from '../http/raw-json.js';
import { type EntityPublishedEvent, SocketEvent } from '../socket-events/socket-events.js';
import { SocketEvents } from '../socket-events/socket-events.service.js';
import { EntityFanout } from './entity-fanout.js';
import { EntityPublisher, InvalidEntityError, NotAttemptedError } from './entity-publisher.service.js';
import { LocalEntityBroker } from './local-entity-broker.js';
import { PublicationLog, type PublicationRecord } from './publication-log.js';

/** A publication log whose records complete only when the test says so, with the seq the test chose. */
class ControlledLog extends PublicationLog {
  readonly recorded: string[] = [];
  private readonly seen = new Map<string, number>();
  private readonly waiting = new Map<string, { resolve: (record: PublicationRecord) => void; reject: (error: Error) => void }>();

  record(id: string): Promise<PublicationRecord> {
    this.recorded.push(id);
    return new Promise((resolve, reject) => this.waiting.set(id, { resolve, reject }));
  }

  /** Completes the record of `id`: fresh with `seq`, or a duplicate when the id was completed before. */
  complete(id: string, seq: number): void {
    const earlier = this.seen.get(id);
    if (earlier === undefined) this.seen.set(id, seq);
    this.take(id).resolve({ seq: earlier ?? seq, publishedAt: new Date('2026-11-22T09:00:00.000Z'), duplicate: earlier !== undefined });
  }

  /** Overlapping, as a log may: the test chooses which record completes first, with which seq. */
  override recordAll(ids: readonly string[]): Promise<Array<PromiseSettledResult<PublicationRecord>>> {
    return Promise.allSettled(ids.map((id) => this.record(id)));
  }

  fail(id: string, error: Error): void {
    this.take(id).reject(error);
  }

  readonly forgotten: Array<[string, number]> = [];

  async forget(id: string, seq: number): Promise<void> {
    this.forgotten.push([id, seq]);
    if (this.seen.get(id) === seq) this.seen.delete(id);
  }

  async prune(): Promise<number> {
    return 0;
  }

  async highestSeq(): Promise<number> {
    return 0;
  }

  async raiseSeqTo(): Promise<void> {}

  private take(id: string) {
    const waiter = this.waiting.get(id);
    if (!waiter) throw new Error(`no record of ${id} in flight`);
    this.waiting.delete(id);
    return waiter;
  }
}

/** The history as the broker sees it: what it recorded, and took back. */
class RecordedHistory {
  readonly recorded: StoredEntity[] = [];
  readonly forgotten: number[] = [];
  async record(entities: readonly StoredEntity[]): Promise<void> {
    this.recorded.push(...entities);
  }
  async forget(seq: number): Promise<void> {
    this.forgotten.push(seq);
  }
  delivered(): void {}
}

class RecordingFanout extends EntityFanout {
  readonly passes: HistoryEntry[][] = [];
  /** What the next pass does instead of delivering: throw, or fail the deliveries of these ids. */
  nextPass?: { throws: Error } | { failsIds: string[] };

  constructor(registry: SocketRegistry, metrics: GatewayMetrics, history: EntityHistory) {
    super(registry, metrics, history);
  }

  override deliver(deliveries: readonly HistoryEntry[]): BroadcastResult[] {
    const next = this.nextPass;
    this.nextPass = undefined;
    if (next && 'throws' in next) throw next.throws;
    const failing = next?.failsIds ?? [];
    const delivered = deliveries.filter((delivery) => !failing.includes(JSON.parse(delivery.frame.toString('utf8')).id));
    this.passes.push(delivered);
    return deliveries.map((delivery) =>
      delivered.includes(delivery) ? { recipients: 1, failures: [] } : { recipients: 0, failures: [], error: new Error('selector unreadable') },
    );
  }

  get frames(): Array<Record<string, unknown>> {
    return this.passes.flat().map((delivery) => JSON.parse(delivery.frame.toString('utf8')));
  }
}

const raw = (value: unknown) => new RawJson(JSON.stringify(value));
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe(EntityPublisher.name, () => {
  let log: ControlledLog;
  let fanout: RecordingFanout;
  let history: RecordedHistory;
  let sut: EntityPublisher;
  let published: EntityPublishedEvent[];

  beforeEach(() => {
    log = new ControlledLog();
    const registry = new SocketRegistry({ maxBufferedBytes: 1 });
    const metrics = new GatewayMetrics(registry);
    history = new RecordedHistory();
    fanout = new RecordingFanout(registry, metrics, history as unknown as EntityHistory);
    const emitter = new EventEmitter2();
    published = [];
    emitter.on(SocketEvent.ENTITY_PUBLISHED, (event: EntityPublishedEvent) => published.push(event));
    sut = new EntityPublisher(new LocalEntityBroker(log, fanout, history as unknown as EntityHistory), metrics, new SocketEvents(emitter));
  });

  it('broadcasts a lone entity at once, framed as docs/protocol.md says, to the consumers it names', async () => {
    const outcome = sut.publish({ id: 'order-1', groups: ['eu'], data: raw({ n: 1 }) });
    await settle();
    log.complete('order-1', 7);

    await expect(outcome).resolves.toEqual({ id: 'order-1', seq: 7, duplicate: false });
    expect(fanout.passes).toHaveLength(1);
    expect(fanout.passes[0][0].frame.toString('utf8')).toBe(
      '{"type":"entity","id":"order-1","seq":7,"groups":["eu"],"data":{"n":1},"published_at":"2026-11-22T09:00:00.000Z"}',
    );
    expect(fanout.passes[0][0].groups).toEqual(['eu']);
    // recorded in history, frame and all, before it was delivered
    expect(history.recorded.map((entity) => [entity.seq, entity.frame.toString('utf8')])).toEqual([[7, fanout.passes[0][0].frame.toString('utf8')]]);
  });

  it('records what arrives meanwhile together and broadcasts it in one pass, in seq order', async () => {
    const first = sut.publish({ id: 'a', data: raw(1) });
    await settle();
    const burst = ['b', 'c', 'd'].map((id) => sut.publish({ id, data: raw(id) }));
    await settle();
    // the burst waits for the entity in flight, then is recorded as one batch
    expect(log.recorded).toEqual(['a']);
    log.complete('a', 1);
    await first;
    await settle();
    expect(log.recorded).toEqual(['a', 'b', 'c', 'd']);

    // overlapping records can take their seqs in any order
    log.complete('d', 2);
    log.complete('b', 4);
    log.complete('c', 3);

    expect(await Promise.all(burst)).toEqual([
      { id: 'b', seq: 4, duplicate: false },
      { id: 'c', seq: 3, duplicate: false },
      { id: 'd', seq: 2, duplicate: false },
    ]);
    expect(fanout.passes.map((pass) => pass.length)).toEqual([1, 3]);
    expect(fanout.frames.map((entity) => [entity.id, entity.seq])).toEqual([
      ['a', 1],
      ['d', 2],
      ['c', 3],
      ['b', 4],
    ]);
  });

  it('answers an id repeated within a burst as a duplicate, and broadcasts it once', async () => {
    const first = sut.publish({ id: 'same', data: raw('first') });
    const again = sut.publish({ id: 'same', data: raw('again') });
    await settle();
    log.complete('same', 5);
    await first;
    await settle();
    log.complete('same', 6);

    await expect(again).resolves.toEqual({ id: 'same', seq: 5, duplicate: true });
    expect(fanout.frames.map((entity) => entity.data)).toEqual(['first']);
  });

  it('fires entity published for each entity published, not for a duplicate nor a failure', async () => {
    const first = sut.publish({ id: 'a', groups: ['eu'], data: raw(1) });
    await settle();
    const [again, other, broken] = [sut.publish({ id: 'a', data: raw(1) }), sut.publish({ id: 'b', data: raw(2) }), sut.publish({ id: 'c', data: raw(3) })];
    log.complete('a', 1);
    await first;
    await settle();
    log.complete('a', 3);
    log.complete('b', 2);
    log.fail('c', new Error('database unavailable'));
    await expect(again).resolves.toMatchObject({ duplicate: true });
    await other;
    await expect(broken).rejects.toThrow();

    expect(published).toEqual([
      { id: 'a', seq: 1, groups: ['eu'] },
      { id: 'b', seq: 2, groups: undefined },
    ]);
  });

  it('fails only the publishes whose record failed', async () => {
    const first = sut.publish({ id: 'first', data: raw(0) });
    await settle();
    const [ok, broken] = [sut.publish({ id: 'ok', data: raw(1) }), sut.publish({ id: 'broken', data: raw(2) })];
    log.complete('first', 1);
    await first;
    await settle();
    log.fail('broken', new Error('database unavailable'));
    log.complete('ok', 2);

    await expect(ok).resolves.toEqual({ id: 'ok', seq: 2, duplicate: false });
    await expect(broken).rejects.toThrow('database unavailable');
    expect(fanout.frames.map((entity) => entity.id)).toEqual(['first', 'ok']);
  });

  describe('when an entity cannot be delivered', () => {
    it('refuses groups that are not a list before recording, and publishes the rest of the burst', async () => {
      const first = sut.publish({ id: 'first', data: raw(0) });
      await settle();
      const ok = sut.publish({ id: 'ok', groups: ['eu'], data: raw(1) });
      await expect(sut.publish({ id: 'null-groups', groups: null as unknown as string[], data: raw(2) })).rejects.toThrow(InvalidEntityError);
      log.complete('first', 1);
      await first;
      await settle();
      log.complete('ok', 2);

      await expect(ok).resolves.toEqual({ id: 'ok', seq: 2, duplicate: false });
      expect(log.recorded).toEqual(['first', 'ok']);
      expect(fanout.frames.map((entity) => entity.id)).toEqual(['first', 'ok']);
    });

    it('refuses an entity without data before recording', async () => {
      await expect(sut.publish({ id: 'nothing', data: undefined as unknown as RawJson })).rejects.toThrow(InvalidEntityError);
      expect(log.recorded).toEqual([]);
    });

    it('takes back the record of an entity whose delivery failed, so that a retry publishes it afresh', async () => {
      const first = sut.publish({ id: 'first', data: raw(0) });
      await settle();
      const [ok, failing] = [sut.publish({ id: 'ok', data: raw(1) }), sut.publish({ id: 'failing', data: raw(2) })];
      log.complete('first', 1);
      await first;
      fanout.nextPass = { failsIds: ['failing'] };
      await settle();
      log.complete('ok', 2);
      log.complete('failing', 3);

      await expect(failing).rejects.toThrow('selector unreadable');
      await expect(ok).resolves.toEqual({ id: 'ok', seq: 2, duplicate: false });
      expect(log.forgotten).toEqual([['failing', 3]]);

      const retry = sut.publish({ id: 'failing', data: raw(2) });
      await settle();
      log.complete('failing', 4);
      await expect(retry).resolves.toEqual({ id: 'failing', seq: 4, duplicate: false });
      expect(fanout.frames.map((entity) => entity.id)).toEqual(['first', 'ok', 'failing']);
    });

    it('takes back every record of a batch whose broadcast threw, and goes on with the next batch', async () => {
      const first = sut.publish({ id: 'first', data: raw(0) });
      await settle();
      const burst = ['a', 'b'].map((id) => sut.publish({ id, data: raw(id) }));
      log.complete('first', 1);
      await first;
      fanout.nextPass = { throws: new Error('bus down') };
      await settle();
      log.complete('a', 2);
      log.complete('b', 3);

      for (const outcome of burst) await expect(outcome).rejects.toThrow('bus down');
      expect(log.forgotten).toEqual([
        ['a', 2],
        ['b', 3],
      ]);
      const after = sut.publish({ id: 'a', data: raw('again') });
      await settle();
      log.complete('a', 4);
      await expect(after).resolves.toEqual({ id: 'a', seq: 4, duplicate: false });
    });
  });

  describe('publishAll (POST /entities)', () => {
    it('queues the entities together in the order given, behind what is in flight, and records them as one batch', async () => {
      const first = sut.publish({ id: 'first', data: raw(0) });
      await settle();
      const all = sut.publishAll(['x', 'y', 'z'].map((id) => ({ id, data: raw(id) })));
      await settle();
      log.complete('first', 1);
      await first;
      await settle();
      expect(log.recorded).toEqual(['first', 'x', 'y', 'z']);
      log.complete('x', 2);
      log.complete('y', 3);
      log.complete('z', 4);

      expect(await all).toEqual([
        { id: 'x', seq: 2, duplicate: false },
        { id: 'y', seq: 3, duplicate: false },
        { id: 'z', seq: 4, duplicate: false },
      ]);
      expect(fanout.passes.map((pass) => pass.length)).toEqual([1, 3]);
    });

    it('answers a refused entity in its place and publishes the others', async () => {
      const all = sut.publishAll([
        { id: 'a', data: raw(1) },
        { id: 'bad', groups: 'eu' as unknown as string[], data: raw(2) },
        { id: 'c', data: raw(3) },
      ]);
      await settle();
      log.complete('a', 1);
      log.complete('c', 2);
      const [a, bad, c] = await all;
      expect(a).toEqual({ id: 'a', seq: 1, duplicate: false });
      expect((bad as { error: unknown }).error).toBeInstanceOf(InvalidEntityError);
      expect(c).toEqual({ id: 'c', seq: 2, duplicate: false });
    });

    it('does not try the entities after one that failed, so that a retry keeps their order', async () => {
      // a repeated id splits the request into two batches: the second is not tried once the first failed
      const all = sut.publishAll([
        { id: 'a', data: raw(1) },
        { id: 'b', data: raw(2) },
        { id: 'a', data: raw(3) },
        { id: 'd', data: raw(4) },
      ]);
      await settle();
      expect(log.recorded).toEqual(['a', 'b']);
      log.fail('a', new Error('database unavailable'));
      log.complete('b', 5);
      const outcomes = await all;
      expect((outcomes[0] as { error: Error }).error.message).toBe('database unavailable');
      expect(outcomes[1]).toEqual({ id: 'b', seq: 5, duplicate: false });
      expect((outcomes[2] as { error: unknown }).error).toBeInstanceOf(NotAttemptedError);
      expect((outcomes[3] as { error: unknown }).error).toBeInstanceOf(NotAttemptedError);
      expect(log.recorded).toEqual(['a', 'b']);
    });
  });
});
