import { randomUUID } from 'node:crypto';
import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { DeliveryBus } from '@app/socket-registry';
import { CONSUMER_PATH } from '../gateway/consumer-session.service.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { PublicationLog } from './publication-log.js';
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
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Publishes entities: records the id (idempotency and `seq`), frames the
 * entity once, and hands the frame to the delivery bus. Publishes on one
 * instance are taken one at a time, so consumers receive them in `seq` order.
 */
@Injectable()
export class EntityPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EntityPublisher.name);
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;
  private pruneTimer?: NodeJS.Timeout;

  constructor(
    private readonly log: PublicationLog,
    private readonly bus: DeliveryBus,
    private readonly metrics: GatewayMetrics,
  ) {}

  publish(entity: PublishEntityDto): Promise<PublishOutcome> {
    if (this.waiting >= MAX_WAITING) return Promise.reject(new PublisherBusyError());
    this.waiting++;
    const outcome = this.tail.then(() => this.publishNow(entity));
    this.tail = outcome.catch(() => undefined).finally(() => this.waiting--);
    return outcome;
  }

  private async publishNow(entity: PublishEntityDto): Promise<PublishOutcome> {
    const id = entity.id ?? randomUUID();
    const record = await this.log.record(id);
    if (record.duplicate) {
      this.metrics.duplicates.inc();
      return { id, seq: record.seq, duplicate: true };
    }
    const frame = Buffer.from(
      JSON.stringify({
        type: 'entity',
        id,
        seq: record.seq,
        groups: entity.groups ?? [],
        data: entity.data,
        published_at: record.publishedAt.toISOString(),
      }),
    );
    const result = await this.bus.broadcast(frame, { type: 'inbound', path: CONSUMER_PATH, groups: entity.groups });
    this.metrics.published.inc();
    this.metrics.deliveries.inc(result.recipients);
    for (const failure of result.failures) this.metrics.deliveryFailures.inc({ reason: failure.reason });
    return { id, seq: record.seq, duplicate: false };
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
