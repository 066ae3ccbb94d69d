import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { Redis } from 'ioredis';
import { AlertService } from '@app/alerting';
import { CLOCK, type Clock, sleep, type TimerHandle } from '@app/platform';
import { experienceConfig } from '../config/experience.config.js';
import type { HistoryEntry, StoredEntity } from '../history/history-entry.js';
import { EntityHistory, type StreamTail } from '../history/entity-history.service.js';
import { entityFrameAround } from '../protocol/index.js';
import { EntityBroker, type Publication, type PublicationOutcome } from '../publishing/entity-broker.js';
import { EntityFanout } from '../publishing/entity-fanout.js';
import { PublicationLog } from '../publishing/publication-log.js';
import { ClusterUnavailableError } from './cluster-unavailable.error.js';
import { EPOCH_SCRIPT, parseEntries, PUBLISH_SCRIPT, seqOfEntryId, type StreamKeys, streamKeys } from './entity-stream.js';
import { RedisConnection } from './redis-connection.js';

const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;
/** Entries taken per read: a burst reaches each socket in writes of up to this many frames. */
const READ_COUNT = 512;
/** A blocking read returns empty after this long, so that the loop looks up now and then. */
const READ_BLOCK_MS = 5_000;
/** After a read failed with Redis still reachable (a bad entry, say), the next waits this long. */
const READ_RETRY_MS = 1_000;
/** How often the highest `seq` seen is written back to the database (see PublicationLog.raiseSeqTo). */
const CHECKPOINT_EVERY_MS = 10_000;
/** Entities whose history record failed, kept to try again; past this the oldest are given up (and alerted). */
const MAX_UNRECORDED = 100_000;
/** How often unrecorded entities are tried again. */
const RECORD_RETRY_MS = 1_000;

/** The commands PUBLISH_SCRIPT and EPOCH_SCRIPT become on the commands client. */
interface StreamCommands {
  publishEntities(seqKey: string, streamKey: string, epochKey: string, ...args: Array<string | number>): Promise<number[]>;
  streamEpoch(epochKey: string, candidate: string): Promise<string>;
}

/**
 * The broker of a cluster: entities go through one Redis stream that every
 * instance reads.
 *
 * Publishing appends a batch in one script (see PUBLISH_SCRIPT): the `seq`,
 * the idempotency record and the stream entry are taken together, so `seq`
 * order is stream order everywhere, and an id answered as a duplicate is an
 * entity already in the stream. Answers come back once Redis holds the
 * entities; delivery is the reading side's work, on every instance alike.
 *
 * Reading: one blocking `XREAD` after the last entry this instance delivered,
 * each burst written to the local sockets together. When the connection
 * comes back after a loss, reading resumes where it stopped, so nothing the
 * stream still holds is skipped; entries trimmed meanwhile, or a stream Redis
 * lost, are alerted.
 *
 * History: the publishing instance records its batch in the database once
 * Redis has it, before answering; every instance keeps the newest entities in
 * memory as it reads them (EntityHistory), starting from the stream's tail.
 * A record that fails is retried in the background: the entity is in the
 * stream and reaches consumers live regardless.
 */
@Injectable()
export class RedisEntityBroker extends EntityBroker implements OnApplicationBootstrap, BeforeApplicationShutdown, StreamTail {
  private readonly logger = new Logger(RedisEntityBroker.name);
  private readonly keys: StreamKeys;
  private readonly commands: Redis & StreamCommands;
  /** The last entry delivered here. */
  private lastId = '0-0';
  /** The highest `seq` this instance has seen: no `seq` it hands out is lower. */
  private highest = 0;
  private checkpointed = 0;
  private epoch?: string;
  private stopped = false;
  private checkpointTimer?: TimerHandle;
  private unrecorded: StoredEntity[] = [];
  private recordTimer?: TimerHandle;

  constructor(
    private readonly redis: RedisConnection,
    private readonly fanout: EntityFanout,
    private readonly log: PublicationLog,
    private readonly history: EntityHistory,
    private readonly alerts: AlertService,
    @Inject(experienceConfig.KEY) private readonly config: ConfigType<typeof experienceConfig>,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    super();
    this.keys = streamKeys(config.cluster!.keyPrefix);
    redis.commands.defineCommand('publishEntities', { numberOfKeys: 3, lua: PUBLISH_SCRIPT });
    redis.commands.defineCommand('streamEpoch', { numberOfKeys: 1, lua: EPOCH_SCRIPT });
    this.commands = redis.commands as Redis & StreamCommands;
  }

  async publish(batch: readonly Publication[]): Promise<PublicationOutcome[]> {
    const failed = (error: unknown): PublicationOutcome[] => batch.map(() => ({ status: 'failed', error }));
    if (!this.redis.isReachable) return failed(new ClusterUnavailableError('not published'));
    const publishedAt = new Date(this.clock.now());
    const args: Array<string | number> = [this.highest, this.config.cluster!.streamLength, IDEMPOTENCY_WINDOW_MS, this.keys.idPrefix, randomUUID()];
    const frames = batch.map(({ id, groups, dataText }) => {
      const around = entityFrameAround(id, groups ?? [], dataText, publishedAt);
      args.push(id, around.head, around.tail, groups === undefined ? '' : JSON.stringify(groups));
      return around;
    });
    let answers: number[];
    try {
      answers = await this.commands.publishEntities(this.keys.seq, this.keys.stream, this.keys.epoch, ...args);
    } catch (error) {
      // the script may have run before the connection broke: a retry of the same ids answers duplicate then
      this.logger.warn(`could not append ${batch.length} entities to the stream: ${(error as Error).message}`);
      return failed(new ClusterUnavailableError('not published', { cause: error }));
    }
    const recorded: StoredEntity[] = [];
    const outcomes = answers.map((answer, i): PublicationOutcome => {
      if (answer < 0) return { status: 'duplicate', seq: -answer };
      this.highest = Math.max(this.highest, answer);
      const { id, groups } = batch[i];
      recorded.push({ seq: answer, id, groups, frame: Buffer.from(`${frames[i].head}${answer}${frames[i].tail}`), publishedAt });
      return { status: 'published', seq: answer };
    });
    await this.record(recorded);
    return outcomes;
  }

  /** Records entities in the database history; what fails waits to be tried again. */
  private async record(entities: StoredEntity[]): Promise<void> {
    if (entities.length === 0) return;
    try {
      await this.history.record(entities);
    } catch (error) {
      this.logger.warn(`could not record ${entities.length} entities in history (they were published; retrying): ${(error as Error).message}`);
      this.keepUnrecorded(entities);
    }
  }

  private keepUnrecorded(entities: readonly StoredEntity[]): void {
    if (this.unrecorded.length === 0) {
      this.alerts.raise({
        kind: 'history_record_failed',
        severity: 'error',
        subject: 'published entities could not be recorded in history',
        details: {
          first_seq: entities[0].seq,
          effect: 'consumers reconnecting after these entities left memory cannot recover them until the record succeeds',
        },
      });
    }
    this.unrecorded.push(...entities);
    const over = this.unrecorded.length - MAX_UNRECORDED;
    if (over > 0) {
      const lost = this.unrecorded.splice(0, over);
      this.logger.error(`gave up recording ${over} entities in history (seq ${lost[0].seq} to ${lost[lost.length - 1].seq})`);
      this.alerts.raise({
        kind: 'history_record_lost',
        severity: 'critical',
        subject: 'published entities were left out of history',
        details: { first_seq: lost[0].seq, last_seq: lost[lost.length - 1].seq },
      });
    }
    this.recordTimer ??= this.clock.setTimer(() => void this.recordAgain(), RECORD_RETRY_MS);
  }

  private async recordAgain(): Promise<void> {
    this.recordTimer = undefined;
    const waiting = this.unrecorded;
    this.unrecorded = [];
    try {
      await this.history.record(waiting);
      this.logger.log(`recorded ${waiting.length} entities in history after all`);
    } catch {
      this.unrecorded = [...waiting, ...this.unrecorded];
      if (!this.stopped) this.recordTimer = this.clock.setTimer(() => void this.recordAgain(), RECORD_RETRY_MS);
    }
  }

  /**
   * The stream's newest entries of (after, upTo], and from where it holds
   * them all. Trimming only ever takes the oldest entries, so every entry
   * from the stream's first one (looked at after the read) up is in what was
   * read, and so is everything from the oldest entry read up when the read
   * stopped at its limit.
   */
  async read(after: number, upTo: number): Promise<{ readonly from: number; readonly entries: HistoryEntry[] }> {
    if (!this.redis.isReachable || upTo <= after) return { from: upTo, entries: [] };
    // the stream is trimmed approximately: it may run a little over its length
    const limit = this.config.cluster!.streamLength * 2;
    const newestFirst = await this.commands.xrevrangeBuffer(this.keys.stream, `${upTo}-0`, `${after + 1}-0`, 'COUNT', limit);
    const [first] = await this.commands.xrangeBuffer(this.keys.stream, '-', '+', 'COUNT', 1);
    const entries = parseEntries(newestFirst).reverse();
    let from = first ? seqOfEntryId(first[0].toString()) - 1 : upTo;
    if (newestFirst.length >= limit) from = Math.max(from, entries[0].seq - 1);
    return { from: Math.max(from, after), entries };
  }

  async onApplicationBootstrap(): Promise<void> {
    this.history.useTail(this);
    // numbering goes on above what this deployment ever handed out, even if Redis comes up empty
    const [counted, newest] = await Promise.all([this.log.highestSeq(), this.history.newest()]);
    this.checkpointed = counted;
    this.highest = Math.max(counted, newest.length > 0 ? newest[newest.length - 1].seq : 0);
    this.checkpointTimer = this.clock.setTimer(() => void this.checkpoint(), CHECKPOINT_EVERY_MS);
    void this.readForever();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.checkpointTimer) this.clock.clearTimer(this.checkpointTimer);
    if (this.recordTimer) this.clock.clearTimer(this.recordTimer);
    if (this.unrecorded.length > 0) await this.recordAgain();
    await this.checkpoint(false);
  }

  private async checkpoint(again = true): Promise<void> {
    try {
      if (this.highest > this.checkpointed) {
        const highest = this.highest;
        await this.log.raiseSeqTo(highest);
        this.checkpointed = highest;
      }
    } catch (error) {
      this.logger.warn(`could not write the highest seq back to the database: ${(error as Error).message}`);
    }
    if (again && !this.stopped) this.checkpointTimer = this.clock.setTimer(() => void this.checkpoint(), CHECKPOINT_EVERY_MS);
  }

  private async readForever(): Promise<void> {
    let placed = false;
    while (!this.stopped) {
      try {
        if (!placed) {
          await this.redis.whenReachable();
          if (this.stopped) return;
          await this.place();
          placed = true;
        }
        const reply = await this.redis.reader.xreadBuffer('COUNT', READ_COUNT, 'BLOCK', READ_BLOCK_MS, 'STREAMS', this.keys.stream, this.lastId);
        if (reply) this.deliver(reply[0][1]);
      } catch (error) {
        if (this.stopped) return;
        placed = false;
        this.logger.warn(`reading the entity stream failed: ${(error as Error).message}`);
        if (this.redis.isReachable) await sleep(READ_RETRY_MS, undefined, this.clock);
      }
    }
  }

  private deliver(entries: Array<[Buffer, Buffer[]]>): void {
    if (entries.length === 0) return;
    this.lastId = entries[entries.length - 1][0].toString();
    const read = parseEntries(entries);
    this.highest = Math.max(this.highest, read[read.length - 1].seq);
    this.fanout.deliver(read);
  }

  /**
   * Where reading starts, on the first connection and after every loss: at
   * the end of the stream the first time (consumers get what is published
   * from now on), else after the last entry delivered here.
   */
  private async place(): Promise<void> {
    const epoch = await this.commands.streamEpoch(this.keys.epoch, randomUUID());
    if (this.epoch === undefined) {
      // the stream's tail is where this instance starts, and what it can replay from memory
      const tail = parseEntries(
        await this.commands.xrevrangeBuffer(this.keys.stream, '+', '-', 'COUNT', Math.max(1, this.config.history.cacheEntities)),
      ).reverse();
      this.lastId = tail.length > 0 ? `${tail[tail.length - 1].seq}-0` : '0-0';
      this.history.start(tail, Math.max(seqOfEntryId(this.lastId), this.highest));
    } else if (epoch !== this.epoch) {
      this.logger.error(`Redis lost the entity stream (new epoch); reading it from its start`);
      this.alerts.raise({
        kind: 'cluster_stream_lost',
        severity: 'critical',
        subject: 'Redis lost the entity stream',
        details: {
          last_seq_delivered: seqOfEntryId(this.lastId),
          effect: 'entities in the lost stream that this instance had not read never reach its consumers',
        },
      });
      this.lastId = '0-0';
    } else {
      await this.checkTrimmed();
    }
    this.epoch = epoch;
    this.highest = Math.max(this.highest, seqOfEntryId(this.lastId));
  }

  /** Alerts when entries this instance had not read were trimmed from the stream while it was cut off. */
  private async checkTrimmed(): Promise<void> {
    const info = (await this.commands.call('XINFO', 'STREAM', this.keys.stream).catch(() => null)) as unknown[] | null;
    if (!info) return;
    const at = info.indexOf('max-deleted-entry-id');
    const maxDeleted = at >= 0 ? seqOfEntryId(String(info[at + 1])) : 0;
    if (maxDeleted <= seqOfEntryId(this.lastId)) return;
    this.logger.error(
      `entities up to seq ${maxDeleted} were trimmed from the stream before this instance read them (it had delivered up to ${seqOfEntryId(this.lastId)})`,
    );
    this.alerts.raise({
      kind: 'cluster_stream_gap',
      severity: 'critical',
      subject: 'an instance missed entities trimmed from the stream',
      details: { last_seq_delivered: seqOfEntryId(this.lastId), trimmed_up_to_seq: maxDeleted, remedy: 'raise CLUSTER_STREAM_LENGTH' },
    });
  }
}
