import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { localRedisUrl, redisAnswers, serviceAvailable } from '../../../../test/support/processes/services.js';
import { EPOCH_SCRIPT, parseEntries, PUBLISH_SCRIPT, seqOfEntryId, streamKeys } from './entity-stream.js';

const HOUR_MS = 3_600_000;

(serviceAvailable('Redis', await redisAnswers(localRedisUrl)) ? describe : describe.skip)('the entity stream scripts, on Redis', () => {
  let redis: Redis;
  let prefix: string;

  beforeAll(() => {
    redis = new Redis(localRedisUrl);
  });

  afterAll(async () => {
    await redis.quit();
  });

  beforeEach(() => {
    prefix = `spec-${randomUUID()}:`;
  });

  afterEach(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  });

  /** Runs the publish script for `entities` (id and groups), each framed as `{"seq":<seq>,"id":"<id>"}`. */
  async function publish(entities: ReadonlyArray<{ id: string; groups?: string[] }>, options: { floor?: number; length?: number } = {}): Promise<number[]> {
    const keys = streamKeys(prefix);
    const args: Array<string | number> = [options.floor ?? 0, options.length ?? 1_000, HOUR_MS, keys.idPrefix, 'epoch-1'];
    for (const { id, groups } of entities) args.push(id, '{"seq":', `,"id":"${id}"}`, groups ? JSON.stringify(groups) : '');
    return (await redis.eval(PUBLISH_SCRIPT, 3, keys.seq, keys.stream, keys.epoch, ...args)) as number[];
  }

  async function stream() {
    const entries = (await redis.xrangeBuffer(streamKeys(prefix).stream, '-', '+')) as Array<[Buffer, Buffer[]]>;
    return parseEntries(entries).map((entry) => ({ seq: entry.seq, frame: entry.frame.toString(), groups: entry.groups }));
  }

  it('numbers a batch in order and appends each frame, completed around its seq, as entry <seq>-0', async () => {
    expect(await publish([{ id: 'a' }, { id: 'b', groups: ['eu', 'us'] }])).toEqual([1, 2]);

    expect(await stream()).toEqual([
      { seq: 1, frame: '{"seq":1,"id":"a"}', groups: undefined },
      { seq: 2, frame: '{"seq":2,"id":"b"}', groups: ['eu', 'us'] },
    ]);
    expect((await redis.xrange(streamKeys(prefix).stream, '-', '+')).map(([id]) => id)).toEqual(['1-0', '2-0']);
  });

  it('answers an id published before with its earlier seq, negated, and appends nothing for it', async () => {
    await publish([{ id: 'a' }]);

    expect(await publish([{ id: 'b' }, { id: 'a' }])).toEqual([2, -1]);
    expect((await stream()).map((entry) => entry.seq)).toEqual([1, 2]);
  });

  it('keeps an id for the idempotency window only', async () => {
    await publish([{ id: 'a' }]);

    expect(await redis.pttl(`${streamKeys(prefix).idPrefix}a`)).toBeGreaterThan(HOUR_MS - 60_000);
  });

  it('never numbers at or below the floor it is given', async () => {
    expect(await publish([{ id: 'a' }], { floor: 41 })).toEqual([42]);
    expect(await publish([{ id: 'b' }], { floor: 10 })).toEqual([43]);
  });

  it('goes on above the last entry of the stream when Redis lost the counter but kept the stream', async () => {
    await publish([{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
    await redis.del(streamKeys(prefix).seq);

    expect(await publish([{ id: 'd' }])).toEqual([4]);
  });

  it('trims the stream to about the length given', async () => {
    for (let i = 0; i < 20; i++)
      await publish(
        Array.from({ length: 100 }, (_, j) => ({ id: `${i}-${j}` })),
        { length: 500 },
      );

    const length = await redis.xlen(streamKeys(prefix).stream);
    expect(length).toBeGreaterThanOrEqual(500);
    expect(length).toBeLessThan(700);
  });

  it('sets the epoch once: a later candidate does not replace it', async () => {
    const key = streamKeys(prefix).epoch;

    expect(await redis.eval(EPOCH_SCRIPT, 1, key, 'first')).toBe('first');
    expect(await redis.eval(EPOCH_SCRIPT, 1, key, 'second')).toBe('first');
  });

  it('reads the seq of an entry id', () => {
    expect([seqOfEntryId('17-0'), seqOfEntryId('0-0'), seqOfEntryId('9007199254740991-0')]).toEqual([17, 0, 9007199254740991]);
  });
});
