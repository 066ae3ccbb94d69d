import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { RawJson } from '../http/raw-json.js';
import { SocketEvent } from '../socket-events/socket-events.js';
import { SocketEvents } from '../socket-events/socket-events.service.js';
import { EntityBroker, type Publication, type PublicationOutcome } from './entity-broker.js';
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

/** An entity waiting for its turn, already in the form that cannot fail later: groups checked, data in hand as text. */
interface Pending extends Publication {
  readonly resolve: (outcome: PublishOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Publishes entities through the broker, which records each id (idempotency
 * and `seq`), frames the entity once, and fans it out.
 *
 * Publishes on one instance go in batches, one batch at a time: whatever
 * arrived while the previous batch was out is handed to the broker together
 * (its records overlap in the database) and broadcast in `seq` order in one
 * pass, so a consumer still receives entities in `seq` order, and a burst
 * costs each socket one write per batch rather than one per entity. An idle
 * publisher sends a lone entity at once: batching never waits for company.
 *
 * Everything that can refuse an entity (its groups, its data) is checked
 * before it reaches the broker, which records an id only if its broadcast was
 * made: a retry of an entity nobody received publishes it afresh.
 */
@Injectable()
export class EntityPublisher {
  private readonly logger = new Logger(EntityPublisher.name);
  private queue: Pending[] = [];
  private inBatch = 0;
  private draining = false;

  constructor(
    private readonly broker: EntityBroker,
    private readonly metrics: GatewayMetrics,
    private readonly events: SocketEvents,
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
    const outcomes = await this.broker.publish(batch);
    batch.forEach((pending, i) => this.settle(pending, outcomes[i]));
  }

  private settle(pending: Pending, outcome: PublicationOutcome): void {
    switch (outcome.status) {
      case 'failed':
        pending.reject(outcome.error);
        return;
      case 'duplicate':
        this.metrics.duplicates.inc();
        pending.resolve({ id: pending.id, seq: outcome.seq, duplicate: true });
        return;
      case 'published':
        this.metrics.published.inc();
        pending.resolve({ id: pending.id, seq: outcome.seq, duplicate: false });
        this.events.emit(SocketEvent.ENTITY_PUBLISHED, { id: pending.id, seq: outcome.seq, groups: pending.groups });
    }
  }
}

/**
 * Checks what could make an entity fail once recorded and brings it into the
 * form the frame is built from. Throws InvalidEntityError.
 */
function prepare(entity: PublishEntityDto): Pick<Publication, 'groups' | 'dataText'> {
  const given: unknown = entity.groups;
  let groups: string[] | undefined;
  if (given !== undefined) {
    if (!Array.isArray(given) || !given.every((group) => typeof group === 'string')) {
      throw new InvalidEntityError('groups must be a list of group names; leave it out to publish to every consumer');
    }
    // a copy: the groups are read at broadcast time, after the caller has let go of the entity
    groups = [...given];
  }
  if (!(entity.data instanceof RawJson)) throw new InvalidEntityError('data is required (any JSON value)');
  return { groups, dataText: entity.data.text };
}
