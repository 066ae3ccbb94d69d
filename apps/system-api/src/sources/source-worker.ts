import { Logger } from '@nestjs/common';
import type { AlertService } from '@app/alerting';
import { ItemsRefusedError, type OutboxRepository } from '../outbox/outbox.repository.js';
import type { SystemMetrics } from '../metrics/system-metrics.js';
import { ItemMapper, MalformedItemError, type OutboxItem } from './item-mapper.js';
import { jsonText } from './json-text.js';
import { backoffDelay, sleep } from './retry.js';
import { type ItemSink, type Source, SourceRefusedError } from './source.js';
import type { SourceDefinition } from './source-definition.js';
import type { SourceLeases } from './source-leases.js';

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

export type SourceState = 'starting' | 'up' | 'down' | 'standby' | 'stopped';

export interface SourceStatus {
  readonly name: string;
  readonly type: string;
  readonly state: SourceState;
  readonly last_success: string | null;
  readonly last_error: string | null;
  readonly consecutive_failures: number;
  /** Items received from a streaming source and not yet in the outbox. */
  readonly waiting: number;
}

export interface WorkerParts {
  readonly outbox: OutboxRepository;
  readonly leases: SourceLeases;
  readonly alerts: AlertService;
  readonly metrics: SystemMetrics;
  /** Called once items are stored, so that forwarding starts at once. */
  readonly stored: () => void;
}

/**
 * Runs one source: holds its lease, polls it on its interval (or keeps its
 * stream connected), retries failures with backoff and jitter, and after the
 * policy's attempts declares it down, alerts, and goes on probing at the
 * slowest cadence until it answers again.
 */
export class SourceWorker implements ItemSink {
  private readonly logger: Logger;
  private readonly mapper: ItemMapper;
  private readonly stopping = new AbortController();
  private running?: Promise<void>;
  private state: SourceState = 'starting';
  private lastSuccess: Date | null = null;
  private lastError: string | null = null;
  private failures = 0;
  /** A SourceRefusedError was alerted in this run of failures; it is not repeated until the source succeeds. */
  private refusedAlerted = false;

  constructor(
    private readonly definition: SourceDefinition,
    private readonly source: Source,
    private readonly parts: WorkerParts,
  ) {
    this.logger = new Logger(`source ${definition.name}`);
    this.mapper = new ItemMapper(definition.name, definition.item);
  }

  start(): void {
    this.running = this.source.mode === 'polled' ? this.runPolled(this.source) : this.runStreaming(this.source);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
    await this.source.close().catch(() => undefined);
    this.state = 'stopped';
  }

  status(): SourceStatus {
    return {
      name: this.definition.name,
      type: this.definition.type,
      state: this.state,
      last_success: this.lastSuccess?.toISOString() ?? null,
      last_error: this.lastError,
      consecutive_failures: this.failures,
      waiting: this.source.mode === 'streaming' ? this.source.waiting() : 0,
    };
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
        this.parts.metrics.stored.inc({ source: this.definition.name }, stored);
        this.parts.stored();
      }
    }
  }

  async reject(raw: string, reason: string): Promise<void> {
    // an upstream serving the same bad item on every poll is reported once, not once per poll
    if (!(await this.parts.outbox.deadLetter(this.definition.name, raw, reason))) return;
    this.logger.warn(`malformed item set aside: ${reason}`);
    this.parts.metrics.deadLetters.inc({ source: this.definition.name });
    this.parts.alerts.raise({ kind: 'item_malformed', severity: 'warning', subject: 'malformed items set aside', details: { source: this.definition.name, reason } });
  }

  private async map(rawItems: readonly unknown[]): Promise<OutboxItem[]> {
    const items: OutboxItem[] = [];
    for (const raw of rawItems) {
      try {
        items.push(await this.mapper.toItem(raw));
      } catch (error) {
        const reason = error instanceof MalformedItemError ? error.message : `mapping failed on this item: ${(error as Error)?.message ?? String(error)}`;
        await this.reject(itemText(raw), reason);
      }
    }
    return items;
  }

  private async storeMapped(items: readonly OutboxItem[], cursor: unknown): Promise<number> {
    try {
      return await this.parts.outbox.store(this.definition.name, items, cursor);
    } catch (error) {
      if (!(error instanceof ItemsRefusedError) || items.length === 0) throw error;
    }
    // the database refused something in the chunk: one at a time, so that only that item is set aside
    let stored = 0;
    for (const item of items) {
      try {
        stored += await this.parts.outbox.store(this.definition.name, [item], undefined);
      } catch (error) {
        if (!(error instanceof ItemsRefusedError)) throw error;
        await this.reject(itemText(item), error.message);
      }
    }
    if (cursor !== undefined) await this.parts.outbox.store(this.definition.name, [], cursor);
    return stored;
  }

  private get signal(): AbortSignal {
    return this.stopping.signal;
  }

  private async runPolled(source: Extract<Source, { mode: 'polled' }>): Promise<void> {
    while (!this.signal.aborted) {
      if (!(await this.holdLease())) continue;
      try {
        await source.poll(this, await this.parts.outbox.cursor(this.definition.name));
        this.succeeded();
        await this.waitHolding(this.definition.intervalMs);
      } catch (error) {
        await this.waitHolding(this.failed(error));
      }
    }
  }

  private async runStreaming(source: Extract<Source, { mode: 'streaming' }>): Promise<void> {
    while (!this.signal.aborted) {
      if (!(await this.holdLease())) continue;
      const lost = new AbortController();
      try {
        await source.connect(this, (error) => {
          this.lastError = error.message;
          lost.abort(error);
        });
        this.succeeded();
        // connected: keep the lease while the stream lasts
        while (!this.signal.aborted && !lost.signal.aborted) {
          await sleep(this.parts.leases.renewEveryMs, AbortSignal.any([this.signal, lost.signal]));
          if (!this.signal.aborted && !lost.signal.aborted && !(await this.holdLease())) break;
        }
        await source.close().catch(() => undefined);
        if (lost.signal.aborted) await sleep(this.failed(lost.signal.reason), this.signal);
      } catch (error) {
        await source.close().catch(() => undefined);
        await sleep(this.failed(error), this.signal);
      }
    }
  }

  /** Waits, renewing the lease meanwhile, so that a long interval does not let it lapse. */
  private async waitHolding(ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (!this.signal.aborted && Date.now() < until) {
      await sleep(Math.min(until - Date.now(), this.parts.leases.renewEveryMs), this.signal);
      if (!this.signal.aborted && Date.now() < until) await this.parts.leases.hold(this.definition.name).catch(() => false);
    }
  }

  /** True while this instance holds the source; otherwise waits a renewal period in standby. */
  private async holdLease(): Promise<boolean> {
    try {
      if (await this.parts.leases.hold(this.definition.name)) return true;
      if (this.state !== 'standby') this.logger.log('held by another instance; standing by');
      this.state = 'standby';
    } catch (error) {
      this.lastError = `database: ${(error as Error).message}`;
    }
    await sleep(this.parts.leases.renewEveryMs, this.signal);
    return false;
  }

  private succeeded(): void {
    if (this.refusedAlerted) {
      this.refusedAlerted = false;
      this.parts.alerts.resolve(this.refusedKind, `source ${this.definition.name} blocked`);
    }
    if (this.state === 'down') {
      this.logger.log('reachable again');
      this.parts.alerts.resolve(this.alertKind, `source ${this.definition.name} unreachable`);
    }
    this.state = 'up';
    this.failures = 0;
    this.lastSuccess = new Date();
  }

  /** Records a failure and returns how long to wait before the next attempt. */
  private failed(error: unknown): number {
    const { retry, intervalMs } = this.definition;
    this.failures++;
    this.lastError = (error as Error)?.message ?? String(error);
    this.parts.metrics.failures.inc({ source: this.definition.name });
    if (error instanceof SourceRefusedError && !this.refusedAlerted) {
      // retrying will not help until someone acts: say so at once, and once
      this.refusedAlerted = true;
      this.logger.error(`blocked: ${error.message}`);
      this.parts.alerts.raise({
        kind: this.refusedKind,
        severity: 'error',
        subject: `source ${this.definition.name} blocked`,
        details: { source: this.definition.name, type: this.definition.type, error: error.message },
      });
    }
    if (this.failures < retry.attempts) {
      this.logger.warn(`attempt ${this.failures} of ${retry.attempts} failed: ${this.lastError}`);
      return backoffDelay(retry, this.failures);
    }
    if (this.state !== 'down') {
      this.state = 'down';
      this.logger.error(`unreachable after ${retry.attempts} attempts: ${this.lastError}; probing every ${Math.max(retry.maxDelayMs, intervalMs)} ms`);
      this.parts.alerts.raise({
        kind: this.alertKind,
        severity: 'error',
        subject: `source ${this.definition.name} unreachable`,
        details: { source: this.definition.name, type: this.definition.type, attempts: retry.attempts, error: this.lastError },
      });
    }
    return Math.max(retry.maxDelayMs, intervalMs);
  }

  private get alertKind(): string {
    return `source_down:${this.definition.name}`;
  }

  private get refusedKind(): string {
    return `source_blocked:${this.definition.name}`;
  }
}
