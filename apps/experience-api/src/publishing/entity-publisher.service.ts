import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type BroadcastResult, DeliveryBus, type SocketSelector } from '@app/socket-registry';
import { CONSUMER_PATH } from '../gateway/consumer-session.service.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { RawJson } from '../http/raw-json.js';
import { entityFrame } from './entity-frame.js';
import { PublicationLog, type PublicationRecord } from './publication-log.js';
import type { PublishEntityDto } from './publish-entity.dto.js';

export interface PublishOutcome {
  readonly id: string;
  readonly seq: number;
  readonly duplicate: boolean;
}

/** More publishes are waiting than the instance will queue. */
export class PublisherBusyError extends Error {
  constructor() {
    super('too many entities are waiting to be published; retry shortly');
    this.name = 'PublisherBusyError';
  }
}

/** An entity that cannot be framed or routed; refused before its id is recorded. */
export class InvalidEntityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEntityError';
  }
}

const MAX_WAITING = 10_000;
/** Entities recorded together and broadcast in one pass. */
const MAX_BATCH = 64;
const PRUNE_EVERY_MS = 3_600_000;

/** An entity waiting for its record, already in the form that cannot fail later: groups checked, data in hand as text. */
interface Pending {
  readonly id: string;
  readonly selector: SocketSelector;
  readonly groups: readonly string[];
  readonly dataText: string;
  readonly resolve: (outcome: PublishOutcome) => void;
  readonly reject: (error: unknown) => void;
}

interface Recorded {
  readonly pending: Pending;
  readonly record: PublicationRecord;
}

/**
 * Publishes entities: records the id (idempotency and `seq`), frames the
 * entity once, and hands the frame to the delivery bus.
 *
 * Publishes on one instance go in batches, one batch at a time: whatever
 * arrived while the previous batch was out is recorded together (the records
 * overlap in the database) and broadcast in `seq` order in one pass, so a
 * consumer still receives entities in `seq` order, and a burst costs each
 * socket one write per batch rather than one per entity. An idle publisher
 * sends a lone entity at once: batching never waits for company.
 *
 * An id stays recorded only if its broadcast was made: everything that can
 * refuse an entity (its groups, its data) is checked before the record, and
 * an entity whose broadcast fails after all has its record taken back before
 * its publisher hears of the failure, so that a retry publishes it afresh
 * instead of being answered "duplicate" for an entity nobody received.
 */
@Injectable()
export class EntityPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EntityPublisher.name);
  private queue: Pending[] = [];
  private inBatch = 0;
  private draining = false;
  private pruneTimer?: NodeJS.Timeout;

  constructor(
    private readonly log: PublicationLog,
    private readonly bus: DeliveryBus,
    private readonly metrics: GatewayMetrics,
  ) {}

  publish(entity: PublishEntityDto): Promise<PublishOutcome> {
    if (this.queue.length + this.inBatch >= MAX_WAITING) return Promise.reject(new PublisherBusyError());
    return new Promise((resolve, reject) => {
      this.queue.push({ id: entity.id ?? randomUUID(), ...prepare(entity), resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        this.inBatch = batch.length;
        try {
          await this.publishBatch(batch);
        } catch (error) {
          // a fault of this batch must not leave its publishers waiting, nor stop the batches after it
          this.logger.error(`a batch of ${batch.length} entities failed: ${(error as Error).stack ?? String(error)}`);
          for (const pending of batch) pending.reject(error);
        }
        this.inBatch = 0;
      }
    } finally {
      this.draining = false;
    }
  }

  /** The next entities in arrival order, stopping before an id already in the batch: a repeat must see the first one recorded. */
  private takeBatch(): Pending[] {
    const ids = new Set<string>();
    let count = 0;
    while (count < this.queue.length && count < MAX_BATCH && !ids.has(this.queue[count].id)) ids.add(this.queue[count++].id);
    const batch = this.queue.slice(0, count);
    this.queue = this.queue.slice(count);
    return batch;
  }

  private async publishBatch(batch: Pending[]): Promise<void> {
    const records = await Promise.allSettled(batch.map((pending) => this.log.record(pending.id)));
    const fresh: Recorded[] = [];
    records.forEach((settled, i) => {
      const pending = batch[i];
      if (settled.status === 'rejected') {
        pending.reject(settled.reason);
      } else if (settled.value.duplicate) {
        this.metrics.duplicates.inc();
        pending.resolve({ id: pending.id, seq: settled.value.seq, duplicate: true });
      } else {
        fresh.push({ pending, record: settled.value });
      }
    });
    if (fresh.length === 0) return;
    // records overlap, so their seqs may come back in any order; consumers get them in seq order
    fresh.sort((a, b) => a.record.seq - b.record.seq);
    let results: ReadonlyArray<BroadcastResult | undefined> = [];
    let failure: unknown;
    try {
      results = await this.bus.broadcastAll(
        fresh.map(({ pending, record }) => ({
          frame: entityFrame(pending.id, record.seq, pending.groups, pending.dataText, record.publishedAt),
          selector: pending.selector,
        })),
      );
    } catch (error) {
      failure = error;
    }
    await Promise.all(
      fresh.map(async ({ pending, record }, i) => {
        const result = results[i];
        if (result === undefined || result.error !== undefined) {
          await this.forget(pending.id, record.seq);
          pending.reject(result?.error ?? failure);
          return;
        }
        this.metrics.published.inc();
        this.metrics.deliveries.inc(result.recipients);
        for (const failed of result.failures) this.metrics.deliveryFailures.inc({ reason: failed.reason });
        pending.resolve({ id: pending.id, seq: record.seq, duplicate: false });
      }),
    );
  }

  /** Takes back the record of an entity whose broadcast failed, before its publisher is answered. */
  private async forget(id: string, seq: number): Promise<void> {
    try {
      await this.log.forget(id, seq);
    } catch (error) {
      // the only way an id stays recorded undelivered: a retry within 24 h is answered as a duplicate
      this.logger.error(`entity ${id} (seq ${seq}) was not broadcast and its record could not be taken back: ${(error as Error).message}`);
    }
  }

  onApplicationBootstrap(): void {
    this.pruneTimer = setInterval(() => {
      this.log.prune().catch((error: Error) => this.logger.warn(`could not prune publications: ${error.message}`));
    }, PRUNE_EVERY_MS);
    this.pruneTimer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.pruneTimer);
  }
}

/**
 * Checks what could make an entity fail once recorded and brings it into the
 * form the frame is built from. Throws InvalidEntityError.
 */
function prepare(entity: PublishEntityDto): Pick<Pending, 'selector' | 'groups' | 'dataText'> {
  const given: unknown = entity.groups;
  let groups: string[] | undefined;
  if (given !== undefined) {
    if (!Array.isArray(given) || !given.every((group) => typeof group === 'string')) {
      throw new InvalidEntityError('groups must be a list of group names; leave it out to publish to every consumer');
    }
    // a copy: the selector is read at broadcast time, after the caller has let go of the entity
    groups = [...(given as string[])];
  }
  if (!(entity.data instanceof RawJson)) throw new InvalidEntityError('data is required (any JSON value)');
  return { selector: { type: 'inbound', path: CONSUMER_PATH, groups }, groups: groups ?? [], dataText: entity.data.text };
}
