/** What the outbox stores and experience-api receives. */
export interface OutboxItem {
  readonly id: string;
  readonly groups?: string[];
  readonly data: unknown;
}

/** An item in the outbox, waiting to be forwarded; `position` orders the items of a source. */
export interface PendingItem {
  readonly position: string;
  readonly source: string;
  readonly id: string;
  readonly groups: string[] | null;
  readonly data: unknown;
}

export interface OutboxDepth {
  readonly pending: number;
  readonly deadLetters: number;
}

/**
 * The database refused the content of the items given (a data exception, a
 * limit), not a connection problem: the same items would be refused again.
 */
export class ItemsRefusedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ItemsRefusedError';
  }
}

/**
 * The durable outbox: items, each source's cursor, and dead letters. Bound to
 * its TypeORM implementation in OutboxModule.
 */
export abstract class OutboxRepository {
  /**
   * Stores items in order, skipping ids already stored for the source, and moves the cursor, all at once.
   * Throws ItemsRefusedError when the database refuses their content rather than being unreachable.
   */
  abstract store(source: string, items: readonly OutboxItem[], cursor: unknown): Promise<number>;
  /** Sets an item aside; false when the same item of the same source was set aside already. */
  abstract deadLetter(source: string, item: string, reason: string): Promise<boolean>;
  /** Where the source got to, as stored with its last items; undefined before any. */
  abstract cursor(source: string): Promise<unknown>;
  /** The oldest undelivered items of each source, in order. */
  abstract pending(sources: readonly string[], perSource: number): Promise<PendingItem[]>;
  /** experience-api took these items: marks them all delivered, in one statement. */
  abstract markDelivered(positions: readonly string[]): Promise<void>;
  /** experience-api refused the item for good: it becomes a dead letter. */
  abstract markFailed(position: string, error: string): Promise<void>;
  abstract noteAttempt(position: string, error: string): Promise<void>;
  /** Counts a 5xx answer for the item; returns how many it has had. */
  abstract noteServerError(position: string, error: string): Promise<number>;
  /** Deletes delivered items older than the retention; returns how many. */
  abstract prune(retentionMs: number): Promise<number>;
  abstract depth(): Promise<OutboxDepth>;
}
