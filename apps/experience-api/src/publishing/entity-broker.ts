/** An entity ready to publish: checked, with its data as the exact JSON text it was sent as. */
export interface Publication {
  readonly id: string;
  /** Undefined: every consumer. */
  readonly groups: readonly string[] | undefined;
  readonly dataText: string;
}

/** What became of one publication: its place in the stream. */
export type PublicationOutcome =
  /** Recorded and on its way to every consumer it names (delivered, by the local broker). */
  | { readonly status: 'published'; readonly seq: number }
  /** The id was published before, inside the idempotency window: nothing was sent again. */
  | { readonly status: 'duplicate'; readonly seq: number }
  /** Not accepted: a retry with the same id is safe, and publishes it unless it got through after all (then: duplicate). */
  | { readonly status: 'failed'; readonly error: unknown };

/**
 * Owns publishing: records each entity (its `seq`, and its id for
 * idempotency) and fans it out to the consumers it names. Callers see only
 * this, so that a broker spanning several instances (the cluster's, over
 * Redis) or one that keeps history for recovery by `seq` takes the local
 * one's place.
 */
export abstract class EntityBroker {
  /**
   * Publishes a batch of distinct ids: fresh ones reach consumers in `seq`
   * order, each consumer receiving the batch in one write. One outcome per
   * publication, in the order given. An entity whose outcome is `failed` was
   * not delivered to anyone and is not left recorded as published.
   */
  abstract publish(batch: readonly Publication[]): Promise<PublicationOutcome[]>;
}
