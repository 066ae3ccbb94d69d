import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { CLOCK, type Clock, type TimerHandle } from '@app/platform';
import { experienceConfig, type HistorySettings } from '../config/experience.config.js';
import { entitles, type HistoryEntry, type StoredEntity } from './history-entry.js';
import { EpochChangedError, HistoryExpiredError, RecoveryInterruptedError, type UnrecoverableReason } from './history.errors.js';
import { HistoryStore } from './history-store.js';
import { RecentEntities } from './recent-entities.js';

/** Entries read from the database per query while replaying. */
const REPLAY_PAGE = 500;
/** Entries pruned per statement, so that no prune holds a long transaction. */
const PRUNE_CHUNK = 10_000;

/**
 * A shared tail of the stream, where a broker has one (the cluster's Redis
 * stream): read for a range this instance's memory no longer holds, before
 * the database, where the records of the newest entities published on other
 * instances may still be on their way.
 */
export interface StreamTail {
  /**
   * The entries of (after, upTo] the tail holds, in `seq` order, and from
   * where it holds them all: every entry above `from` is there; entries at
   * or below it are for the database.
   */
  read(after: number, upTo: number): Promise<{ readonly from: number; readonly entries: HistoryEntry[] }>;
}

/** Where a consumer says it stopped. */
export interface RecoveryRequest {
  /** The last `seq` it received. */
  readonly after: number;
  /** The epoch it received it in, if it says. */
  readonly epoch?: string;
  /** The highest `seq` delivered on this instance when its socket began holding live entities. */
  readonly upTo: number;
  readonly groups: readonly string[];
}

/** What a reconnecting consumer is told, and replayed. */
export type Recovery =
  | {
      readonly recovered: true;
      readonly missed: number;
      /** Live entities at or below this `seq` are already accounted for: dropped, not sent twice. */
      readonly floor: number;
      /** The missed entries, in `seq` order, a page at a time. */
      readonly replay: AsyncIterable<readonly HistoryEntry[]>;
    }
  | { readonly recovered: false; readonly reason: UnrecoverableReason };

/** A page of history for `GET /entities`. */
export interface HistoryPage {
  readonly entries: readonly HistoryEntry[];
  /** The newest `seq` delivered here when the page was read. */
  readonly lastSeq: number;
  /** Where the next read starts: the last entry's `seq`, or `lastSeq` once everything owed was read. */
  readonly nextSince: number;
  readonly more: boolean;
}

/**
 * The entity history consumers recover from: every entity published, kept in
 * the database for HISTORY_RETENTION and at most HISTORY_MAX_ENTITIES, the
 * newest also in memory (RecentEntities).
 *
 * Brokers write to it (record before answering the publisher; delivered as
 * they fan out) and tell it where the stream stands when they start; sessions
 * and `GET /entities` read from it. The order argument: an instance delivers
 * in `seq` order, so everything above the `seq` it last delivered reaches a
 * socket live, after it started holding; everything at or below it is in
 * memory, or in the broker's tail, or else in the database. Alone, an
 * instance records an entity before delivering it; in a cluster, the tail
 * (the Redis stream) holds the newest entities whatever became of their
 * records, so the database is read only for entities older than the tail.
 */
@Injectable()
export class EntityHistory implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EntityHistory.name);
  private readonly settings: HistorySettings;
  private readonly recent: RecentEntities;
  /** How long a consumer ahead of this instance (it came from a faster one) is waited for before its position is called foreign. */
  private readonly aheadWaitMs: number;
  private epochValue?: string;
  private prunedThrough = 0;
  private pruneTimer?: TimerHandle;
  private stopped = false;
  private tail?: StreamTail;

  constructor(
    private readonly store: HistoryStore,
    @Inject(experienceConfig.KEY) config: ConfigType<typeof experienceConfig>,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.settings = config.history;
    this.recent = new RecentEntities(config.history.cacheEntities);
    this.aheadWaitMs = config.cluster?.opTimeoutMs ?? 0;
  }

  async onApplicationBootstrap(): Promise<void> {
    const state = await this.store.state();
    this.epochValue = state.epoch;
    this.prunedThrough = state.prunedThrough;
    this.schedulePrune();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.pruneTimer) this.clock.clearTimer(this.pruneTimer);
  }

  /** The history's id: a position is only meaningful in the epoch it was received in. */
  get epoch(): string {
    if (this.epochValue === undefined) throw new Error('the entity history is not loaded yet');
    return this.epochValue;
  }

  /** Whether the broker has placed the instance in the stream; before that, positions cannot be compared. */
  get ready(): boolean {
    return this.recent.ready && this.epochValue !== undefined;
  }

  whenReady(): Promise<void> {
    return this.recent.whenStarted();
  }

  /** The highest `seq` delivered on this instance. */
  get deliveredSeq(): number {
    return this.recent.deliveredSeq;
  }

  // --- the brokers' side

  /** The newest entries in the database, for a broker starting where the history ends. */
  newest(): Promise<HistoryEntry[]> {
    return this.store.newest(this.settings.cacheEntities);
  }

  /** Where the stream stands as the broker starts delivering (see RecentEntities.start). */
  start(newest: readonly HistoryEntry[], upTo: number): void {
    this.recent.start(newest, upTo);
  }

  /** The broker's shared tail of the stream, read before the database (see StreamTail). */
  useTail(tail: StreamTail): void {
    this.tail = tail;
  }

  /** Stores entities before (local) or as (cluster) they are delivered. */
  record(entities: readonly StoredEntity[]): Promise<void> {
    return this.store.append(entities);
  }

  /** Takes back an entity that was recorded but reached nobody. */
  forget(seq: number): Promise<void> {
    return this.store.remove(seq);
  }

  /** Entities just delivered on this instance, in `seq` order. */
  delivered(entries: readonly HistoryEntry[]): void {
    this.recent.add(entries);
  }

  // --- the consumers' side

  /** What a consumer reconnecting after `request.after` is owed, or why it cannot be given. */
  async recover(request: RecoveryRequest): Promise<Recovery> {
    const { after, upTo } = request;
    if (request.epoch !== undefined && request.epoch !== this.epoch) return { recovered: false, reason: 'epoch_changed' };
    if (after > upTo) {
      // a consumer that was on a faster instance of the cluster is at most a moment ahead of this one
      if (!(await this.caughtUpTo(after))) return { recovered: false, reason: 'epoch_changed' };
      return { recovered: true, missed: 0, floor: after, replay: nothing() };
    }
    if (after < this.prunedThrough) return { recovered: false, reason: 'history_expired' };
    const { databaseUpTo, newer } = await this.split(after, upTo, request.groups);
    const cap = this.settings.maxRecovery + 1 - newer.length;
    const inDatabase = after < databaseUpTo && cap > 0 ? await this.store.count({ after, upTo: databaseUpTo, groups: request.groups }, cap) : 0;
    const missed = inDatabase + newer.length;
    if (missed > this.settings.maxRecovery) return { recovered: false, reason: 'too_many' };
    return {
      recovered: true,
      missed,
      floor: upTo,
      replay: this.replay({ after, upTo: databaseUpTo, groups: request.groups }, inDatabase, newer),
    };
  }

  /** `GET /entities`: what a consumer in `groups` is owed after `after`, at most `limit`. */
  async page(after: number, limit: number, groups: readonly string[], epoch?: string): Promise<HistoryPage> {
    const upTo = this.deliveredSeq;
    const resume = { last_seq: upTo, epoch: this.epoch };
    if (epoch !== undefined && epoch !== this.epoch) throw new EpochChangedError(`epoch ${epoch} is not the history's`, resume);
    if (after > upTo && !(await this.caughtUpTo(after))) throw new EpochChangedError(`seq ${after} was never published in this history`, resume);
    if (after < this.prunedThrough) throw new HistoryExpiredError(after, this.prunedThrough, resume);
    if (after >= upTo) return { entries: [], lastSeq: Math.max(upTo, after), nextSince: after, more: false };
    const { databaseUpTo, newer } = await this.split(after, upTo, groups);
    const entries = after < databaseUpTo ? await this.store.read({ after, upTo: databaseUpTo, groups }, limit + 1) : [];
    if (entries.length <= limit) entries.push(...newer.slice(0, limit + 1 - entries.length));
    const more = entries.length > limit;
    if (more) entries.length = limit;
    return { entries, lastSeq: upTo, nextSince: more ? entries[entries.length - 1].seq : upTo, more };
  }

  /**
   * Splits (after, upTo] between its sources for a consumer in `groups`:
   * what memory and the broker's tail hold (`newer`, read now, in `seq`
   * order), and what only the database holds, (after, databaseUpTo].
   */
  private async split(after: number, upTo: number, groups: readonly string[]): Promise<{ databaseUpTo: number; newer: HistoryEntry[] }> {
    const entitled = new Set(groups);
    const coveredFrom = Math.min(this.recent.coveredFrom, upTo);
    const inMemory = this.recent.range(Math.max(after, coveredFrom), upTo, entitled);
    // older than memory: the broker's tail, if it has one, then the database for what is older still
    const tail = after < coveredFrom ? await this.readTail(after, coveredFrom, entitled) : undefined;
    return { databaseUpTo: tail ? tail.from : coveredFrom, newer: tail ? [...tail.entries, ...inMemory] : inMemory };
  }

  /** Whether this instance delivers up to `seq` within the wait allowed a consumer that is ahead of it. */
  private caughtUpTo(seq: number): Promise<boolean> {
    return this.recent.waitForSeq(seq, this.aheadWaitMs, this.clock);
  }

  /** What the broker's tail holds of (after, upTo] for a consumer in `groups` (see StreamTail), if it has a tail and it answers. */
  private async readTail(after: number, upTo: number, groups: ReadonlySet<string>): Promise<{ from: number; entries: HistoryEntry[] } | undefined> {
    if (!this.tail) return undefined;
    try {
      const read = await this.tail.read(after, upTo);
      const from = Math.min(Math.max(after, read.from), upTo);
      return { from, entries: read.entries.filter((entry) => entry.seq > from && entry.seq <= upTo && entitles(entry, groups)) };
    } catch (error) {
      this.logger.warn(`could not read the stream's tail; reading the database instead: ${(error as Error).message}`);
      return undefined;
    }
  }

  private async *replay(fromDatabase: { after: number; upTo: number; groups: readonly string[] }, counted: number, inMemory: readonly HistoryEntry[]) {
    let after = fromDatabase.after;
    let read = 0;
    while (read < counted) {
      const page = await this.store.read({ ...fromDatabase, after }, Math.min(REPLAY_PAGE, counted - read));
      if (page.length === 0) throw new RecoveryInterruptedError();
      read += page.length;
      after = page[page.length - 1].seq;
      yield page;
    }
    for (let i = 0; i < inMemory.length; i += REPLAY_PAGE) yield inMemory.slice(i, i + REPLAY_PAGE);
  }

  // --- pruning

  /** Deletes what is past HISTORY_RETENTION or HISTORY_MAX_ENTITIES; returns how many went. */
  async prune(): Promise<number> {
    const before = new Date(this.clock.now() - this.settings.retentionMs);
    let removed = 0;
    for (;;) {
      const result = await this.store.prune(before, this.settings.maxEntities, PRUNE_CHUNK);
      removed += result.removed;
      this.epochValue = result.state.epoch;
      this.prunedThrough = result.state.prunedThrough;
      this.recent.dropThrough(this.prunedThrough);
      // stated as "go on while a whole chunk went", so that a count that is not a number stops too
      if (!(result.removed >= PRUNE_CHUNK) || this.stopped) return removed;
    }
  }

  private schedulePrune(): void {
    if (this.stopped) return;
    this.pruneTimer = this.clock.setTimer(() => {
      this.prune()
        .then((removed) => {
          if (removed > 0) this.logger.debug(`pruned ${removed} entities from history (through seq ${this.prunedThrough})`);
        })
        .catch((error: Error) => this.logger.warn(`could not prune the entity history: ${error.message}`))
        .finally(() => this.schedulePrune());
    }, this.settings.pruneIntervalMs);
  }
}

/** A replay of nothing. */
async function* nothing(): AsyncGenerator<readonly HistoryEntry[]> {}
