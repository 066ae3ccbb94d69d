import type { ItemSink } from '../sink/item-sink.js';

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
