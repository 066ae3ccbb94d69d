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

/** An entity of a `POST /entities` request that was not published because an earlier one of the same request failed: order is kept. */
export class NotAttemptedError extends Error {
  constructor(readonly failedIndex: number) {
    super(`not published, to keep the order: the entity at index ${failedIndex} of this request failed before it; send both again`);
    this.name = 'NotAttemptedError';
  }
}

const MAX_WAITING = 10_000;
/** Entities recorded together and broadcast in one pass: a whole `POST /entities` request at most. */
const MAX_BATCH = 1_000;
/** A batch also stops before its data passes this many characters (a batch is framed and recorded in memory at once). */
const MAX_BATCH_CHARS = 8 * 1_048_576;

/** The entities of one `POST /entities` request, published in order: once one fails, the ones after it are not tried. */
interface BulkRequest {
  failedIndex?: number;
}

/** An entity waiting for its turn, already in the form that cannot fail later: groups checked, data in hand as text. */
interface Pending extends Publication {
  readonly resolve: (outcome: PublishOutcome) => void;
  readonly reject: (error: unknown) => void;
  /** Set for an entity of a `POST /entities` request: the request, and the entity's index in it. */
  readonly bulk?: { readonly request: BulkRequest; readonly index: number };
}

/** What became of one entity of publishAll: published or a duplicate, or the error that refused or failed it. */
export type BulkPublishOutcome = PublishOutcome | { readonly error: unknown };

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

  /**
   * Publishes a request's entities in the order given, behind whatever is
   * queued: they are queued together, so they go through in as few broker
   * batches as their number allows, and fresh ones take increasing `seq`s in
   * that order. An entity refused (InvalidEntityError) refuses only itself;
   * once one fails (not published), those after it are not tried
   * (NotAttemptedError), so that a publisher retrying from the failed one
   * keeps its order. The request is refused whole (PublisherBusyError) when
   * the queue cannot take all of it.
   */
  publishAll(entities: readonly PublishEntityDto[]): Promise<BulkPublishOutcome[]> {
    if (this.queue.length + this.inBatch + entities.length > MAX_WAITING) return Promise.reject(new PublisherBusyError());
    const request: BulkRequest = {};
    const outcomes = entities.map((entity, index) => {
      let prepared: Pick<Publication, 'groups' | 'dataText'>;
      try {
        prepared = prepare(entity);
      } catch (error) {
        return Promise.resolve({ error });
      }
      return new Promise<BulkPublishOutcome>((resolve) => {
        this.queue.push({ id: entity.id ?? randomUUID(), ...prepared, resolve, reject: (error) => resolve({ error }), bulk: { request, index } });
      });
    });
    if (!this.draining && this.queue.length > 0) void this.drain();
    return Promise.all(outcomes);
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.takeBatch();
        if (batch.length === 0) continue;
        this.inBatch = batch.length;
        try {
          await this.publishBatch(batch);
        } catch (error) {
          // a fault of this batch must not leave its publishers waiting, nor stop the batches after it
          this.logger.error(`a batch of ${batch.length} entities failed: ${(error as Error).stack ?? String(error)}`);
          for (const pending of batch) this.fail(pending, error);
        }
        this.inBatch = 0;
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * The next entities in arrival order, stopping before an id already in the
   * batch (a repeat must see the first one recorded) and at the size limits.
   * Entities of a request that already had one fail are answered here, untried.
   */
  private takeBatch(): Pending[] {
    const ids = new Set<string>();
    const batch: Pending[] = [];
    let chars = 0;
    let taken = 0;
    while (taken < this.queue.length && batch.length < MAX_BATCH) {
      const next = this.queue[taken];
      const failedIndex = next.bulk?.request.failedIndex;
      if (failedIndex !== undefined) {
        next.reject(new NotAttemptedError(failedIndex));
        taken++;
        continue;
      }
      if (ids.has(next.id) || (batch.length > 0 && chars + next.dataText.length > MAX_BATCH_CHARS)) break;
      ids.add(next.id);
      chars += next.dataText.length;
      batch.push(next);
      taken++;
    }
    this.queue = this.queue.slice(taken);
    return batch;
  }

  private async publishBatch(batch: Pending[]): Promise<void> {
    const outcomes = await this.broker.publish(batch);
    batch.forEach((pending, i) => this.settle(pending, outcomes[i]));
  }

  private fail(pending: Pending, error: unknown): void {
    const bulk = pending.bulk;
    if (bulk && (bulk.request.failedIndex === undefined || bulk.index < bulk.request.failedIndex)) bulk.request.failedIndex = bulk.index;
    pending.reject(error);
  }

  private settle(pending: Pending, outcome: PublicationOutcome): void {
    switch (outcome.status) {
      case 'failed':
        this.fail(pending, outcome.error);
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
