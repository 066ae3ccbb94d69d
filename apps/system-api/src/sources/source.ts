/**
 * Where a source hands what it read. `store` resolves once every item is in
 * the durable outbox (with the new cursor, in the same statement); only then
 * may the source acknowledge upstream or move a file away.
 */
export interface ItemSink {
  /** Items that fail to map are set aside as dead letters; the others are stored. */
  store(rawItems: readonly unknown[], cursor?: unknown): Promise<void>;
  /** Records something that is not even an item (unparseable bytes), for operators to look at. */
  reject(raw: string, reason: string): Promise<void>;
}

/** A source read on a schedule: HTTP APIs, folders, database tables. */
export interface PolledSource {
  readonly mode: 'polled';
  /** Reads what is new since `cursor` and stores it; throws when the upstream cannot be reached. */
  poll(sink: ItemSink, cursor: unknown): Promise<void>;
  close(): Promise<void>;
}

/** A source that pushes to us over a connection: queues, upstream WebSocket feeds. */
export interface StreamingSource {
  readonly mode: 'streaming';
  /** Resolves once connected; from then on stores each item as it arrives, and calls `lost` if the connection drops. */
  connect(sink: ItemSink, lost: (error: Error) => void): Promise<void>;
  /** Messages received and not yet stored, for /health: bounded by prefetch or max_pending. */
  waiting(): number;
  close(): Promise<void>;
}

export type Source = PolledSource | StreamingSource;

/** The upstream could not be reached or answered with an error; the runner retries. */
export class SourceUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SourceUnavailableError';
  }
}

/**
 * The upstream answered, but what it gave cannot be taken as it stands: an
 * answer over the source's `max_body` or `max_items`, a file where the
 * directory source needs a folder. Nothing of that poll is stored or moved;
 * the poll fails and is retried, and on-call is told at once.
 */
export class SourceRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceRefusedError';
  }
}
