import type { DeliveryFailure } from '@app/socket-registry';

/** An entity ready to publish: checked, with its data as the exact JSON text it was sent as. */
export interface Publication {
  readonly id: string;
  /** Undefined: every consumer. */
  readonly groups: readonly string[] | undefined;
  readonly dataText: string;
}

/** What became of one publication: its place in the stream, and whom it reached. */
export type PublicationOutcome =
  | { readonly status: 'published'; readonly seq: number; readonly recipients: number; readonly failures: readonly DeliveryFailure[] }
  /** The id was published before, inside the idempotency window: nothing was sent again. */
  | { readonly status: 'duplicate'; readonly seq: number }
  /** Neither recorded nor sent: a retry publishes it afresh. */
  | { readonly status: 'failed'; readonly error: unknown };

/**
 * Owns publishing: records each entity (its `seq`, and its id for
 * idempotency) and fans it out to the consumers it names. Callers see only
 * this, so that a broker spanning several instances (a cluster bus) or one
 * that keeps history for recovery by `seq` can take the local one's place.
 */
export abstract class EntityBroker {
  /**
   * Publishes a batch of distinct ids: fresh ones are delivered in `seq`
   * order, each consumer receiving the batch in one write. One outcome per
   * publication, in the order given; an entity whose fan-out failed is not
   * left recorded.
   */
  abstract publish(batch: readonly Publication[]): Promise<PublicationOutcome[]>;
}
