import { Logger } from '@nestjs/common';
import type { AlertService } from '@app/alerting';
import type { SystemMetrics } from '../counters/system-metrics.js';
import { jsonText } from '../outbox/json-text.js';
import { ItemsRefusedError, type OutboxItem, type OutboxRepository } from '../outbox/outbox.repository.js';
import { type ItemMapping, MalformedItemError, type SourceSink } from './item-sink.js';

/** Items mapped and stored per statement; between two, the event loop serves /health and the forwarder. */
export const STORE_CHUNK = 500;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The item as text for a dead letter; never throws, whatever the item holds. */
function itemText(raw: unknown): string {
  try {
    return jsonText(raw);
  } catch {
    try {
      return String(raw);
    } catch {
      return '(an item that cannot be written as text)';
    }
  }
}

export interface OutboxSinkParts {
  readonly outbox: OutboxRepository;
  readonly alerts: AlertService;
  readonly metrics: SystemMetrics;
  /** Told once items are stored, so that forwarding starts at once. */
  readonly forwarder: { nudge(): void };
}

/**
 * The sink of one source: maps what the source read, sets aside what cannot
 * become an entity as a dead letter, stores the rest in the outbox with the
 * source's cursor, and nudges the forwarder.
 */
export class OutboxSink implements SourceSink {
  private readonly logger: Logger;

  constructor(
    private readonly source: string,
    private readonly mapping: ItemMapping,
    private readonly parts: OutboxSinkParts,
  ) {
    this.logger = new Logger(`source ${source}`);
  }

  cursor(): Promise<unknown> {
    return this.parts.outbox.cursor(this.source);
  }

  /**
   * Maps and stores in chunks, the cursor moving with the last one: a crash
   * between chunks re-reads the batch, and ids already stored are skipped.
   * Whatever fails for one item (its mapping, its hash, the database refusing
   * it) sets that item aside; only the database being away fails the batch.
   */
  async store(rawItems: readonly unknown[], cursor?: unknown): Promise<void> {
    const chunks = Math.max(1, Math.ceil(rawItems.length / STORE_CHUNK));
    for (let n = 0; n < chunks; n++) {
      if (n > 0) await nextTurn();
      const items = await this.map(rawItems.slice(n * STORE_CHUNK, (n + 1) * STORE_CHUNK));
      const stored = await this.storeMapped(items, n === chunks - 1 ? cursor : undefined);
      if (stored > 0) {
        this.parts.metrics.stored.inc({ source: this.source }, stored);
        this.parts.forwarder.nudge();
      }
    }
  }

  async setAside(raw: string, reason: string): Promise<void> {
    // an upstream serving the same bad item on every poll is reported once, not once per poll
    if (!(await this.parts.outbox.deadLetter(this.source, raw, reason))) return;
    this.logger.warn(`malformed item set aside: ${reason}`);
    this.parts.metrics.deadLetters.inc({ source: this.source });
    this.parts.alerts.raise({ kind: 'item_malformed', severity: 'warning', subject: 'malformed items set aside', details: { source: this.source, reason } });
  }

  private async map(rawItems: readonly unknown[]): Promise<OutboxItem[]> {
    const items: OutboxItem[] = [];
    for (const raw of rawItems) {
      try {
        items.push(await this.mapping.toItem(raw));
      } catch (error) {
        const reason = error instanceof MalformedItemError ? error.message : `mapping failed on this item: ${(error as Error)?.message ?? String(error)}`;
        await this.setAside(itemText(raw), reason);
      }
    }
    return items;
  }

  private async storeMapped(items: readonly OutboxItem[], cursor: unknown): Promise<number> {
    try {
      return await this.parts.outbox.store(this.source, items, cursor);
    } catch (error) {
      if (!(error instanceof ItemsRefusedError) || items.length === 0) throw error;
    }
    // the database refused something in the chunk: one at a time, so that only that item is set aside
    let stored = 0;
    for (const item of items) {
      try {
        stored += await this.parts.outbox.store(this.source, [item], undefined);
      } catch (error) {
        if (!(error instanceof ItemsRefusedError)) throw error;
        await this.setAside(itemText(item), error.message);
      }
    }
    if (cursor !== undefined) await this.parts.outbox.store(this.source, [], cursor);
    return stored;
  }
}
