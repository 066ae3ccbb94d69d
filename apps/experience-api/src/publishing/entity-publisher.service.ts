import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { type BroadcastResult, DeliveryBus } from '@app/socket-registry';
import { CONSUMER_PATH } from '../gateway/consumer-session.service.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
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

const MAX_WAITING = 10_000;
/** Entities recorded together and broadcast in one pass. */
const MAX_BATCH = 64;
const PRUNE_EVERY_MS = 3_600_000;

interface Pending {
  readonly id: string;
  readonly entity: PublishEntityDto;
  readonly resolve: (outcome: PublishOutcome) => void;
  readonly reject: (error: unknown) => void;
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
      this.queue.push({ id: entity.id ?? randomUUID(), entity, resolve, reject });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        this.inBatch = batch.length;
        await this.publishBatch(batch);
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
    const fresh: Array<{ pending: Pending; record: PublicationRecord }> = [];
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
    const deliveries = fresh.map(({ pending, record }) => ({
      frame: entityFrame(pending.id, record.seq, pending.entity.groups ?? [], pending.entity.data.text, record.publishedAt),
      selector: { type: 'inbound' as const, path: CONSUMER_PATH, groups: pending.entity.groups },
    }));
    let results: BroadcastResult[];
    try {
      results = await this.bus.broadcastAll(deliveries);
    } catch (error) {
      for (const { pending } of fresh) pending.reject(error);
      return;
    }
    fresh.forEach(({ pending, record }, i) => {
      this.metrics.published.inc();
      this.metrics.deliveries.inc(results[i].recipients);
      for (const failure of results[i].failures) this.metrics.deliveryFailures.inc({ reason: failure.reason });
      pending.resolve({ id: pending.id, seq: record.seq, duplicate: false });
    });
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
