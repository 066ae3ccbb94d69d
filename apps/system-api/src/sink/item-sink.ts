import type { OutboxItem } from '../outbox/outbox.repository.js';

/**
 * Where a source hands what it read. `store` resolves once every item is in
 * the durable outbox (with the new cursor, in the same statement); only then
 * may the source acknowledge upstream or move a file away.
 */
export interface ItemSink {
  /** Items that fail to map are set aside as dead letters; the others are stored. */
  store(rawItems: readonly unknown[], cursor?: unknown): Promise<void>;
  /** Sets aside, as a dead letter, something that is not even an item (unparseable bytes), for operators to look at. */
  setAside(raw: string, reason: string): Promise<void>;
}

/** The sink of one source as its worker sees it: it also says where the source got to. */
export interface SourceSink extends ItemSink {
  /** The cursor stored with the source's last items; undefined before any. */
  cursor(): Promise<unknown>;
}

/** Turns what a source read into an outbox item; throws MalformedItemError for one that cannot become an entity. */
export interface ItemMapping {
  toItem(raw: unknown): Promise<OutboxItem>;
}

/** An item that cannot become an entity; it is set aside, and the rest go on. */
export class MalformedItemError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedItemError';
  }
}
