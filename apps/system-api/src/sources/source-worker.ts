import { Logger } from '@nestjs/common';
import type { AlertService } from '@app/alerting';
import { Backoff, type Clock, sleep, systemClock } from '@app/platform';
import type { SourceLeases } from '../leases/source-leases.js';
import type { SystemMetrics } from '../counters/system-metrics.js';
import type { SourceSink } from '../sink/item-sink.js';
import { type Source, SourceRefusedError } from './source.js';
import type { SourceDefinition } from './source-definition.js';
import type { SourceState, SourceStatus } from './source-status.js';

export interface WorkerParts {
  /** Where the source's items go, and where its cursor comes from. */
  readonly sink: SourceSink;
  readonly leases: Pick<SourceLeases, 'hold' | 'renewEveryMs'>;
  readonly alerts: Pick<AlertService, 'raise' | 'resolve'>;
  readonly metrics: SystemMetrics;
  readonly clock?: Clock;
  /** Draws the jitter of each retry wait. */
  readonly random?: () => number;
}

/**
 * Runs one source: holds its lease, polls it on its interval (or keeps its
 * stream connected), retries failures with backoff and jitter, and after the
 * policy's attempts declares it down, alerts, and goes on probing at the
 * slowest cadence until it answers again.
 */
export class SourceWorker {
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly stopping = new AbortController();
  private running?: Promise<void>;
  private state: SourceState = 'starting';
  private lastSuccess: Date | null = null;
  private lastError: string | null = null;
  /** A SourceRefusedError was alerted in this run of failures; it is not repeated until the source succeeds. */
  private refusedAlerted = false;

  constructor(
    private readonly definition: SourceDefinition,
    private readonly source: Source,
    private readonly parts: WorkerParts,
  ) {
    this.logger = new Logger(`source ${definition.name}`);
    this.clock = parts.clock ?? systemClock;
    this.backoff = new Backoff(definition.retry, parts.random);
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
      consecutive_failures: this.backoff.failures,
      waiting: this.source.mode === 'streaming' ? this.source.waiting() : 0,
    };
  }

  private get signal(): AbortSignal {
    return this.stopping.signal;
  }

  private sleep(ms: number, signal: AbortSignal = this.signal): Promise<void> {
    return sleep(ms, signal, this.clock);
  }

  private async runPolled(source: Extract<Source, { mode: 'polled' }>): Promise<void> {
    while (!this.signal.aborted) {
      if (!(await this.holdLease())) continue;
      try {
        await source.poll(this.parts.sink, await this.parts.sink.cursor());
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
        await source.connect(this.parts.sink, (error) => {
          this.lastError = error.message;
          lost.abort(error);
        });
        this.succeeded();
        // connected: keep the lease while the stream lasts
        while (!this.signal.aborted && !lost.signal.aborted) {
          await this.sleep(this.parts.leases.renewEveryMs, AbortSignal.any([this.signal, lost.signal]));
          if (!this.signal.aborted && !lost.signal.aborted && !(await this.holdLease())) break;
        }
        await source.close().catch(() => undefined);
        if (lost.signal.aborted) await this.sleep(this.failed(lost.signal.reason));
      } catch (error) {
        await source.close().catch(() => undefined);
        await this.sleep(this.failed(error));
      }
    }
  }

  /** Waits, renewing the lease meanwhile, so that a long interval does not let it lapse. */
  private async waitHolding(ms: number): Promise<void> {
    const until = this.clock.now() + ms;
    while (!this.signal.aborted && this.clock.now() < until) {
      await this.sleep(Math.min(until - this.clock.now(), this.parts.leases.renewEveryMs));
      if (!this.signal.aborted && this.clock.now() < until) await this.parts.leases.hold(this.definition.name).catch(() => false);
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
    await this.sleep(this.parts.leases.renewEveryMs);
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
    this.backoff.succeed();
    this.lastSuccess = new Date(this.clock.now());
  }

  /** Records a failure and returns how long to wait before the next attempt. */
  private failed(error: unknown): number {
    const { retry, intervalMs } = this.definition;
    const delay = this.backoff.fail();
    const failures = this.backoff.failures;
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
    if (failures < retry.attempts) {
      this.logger.warn(`attempt ${failures} of ${retry.attempts} failed: ${this.lastError}`);
      return delay;
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
