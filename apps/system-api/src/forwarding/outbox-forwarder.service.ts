import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { AlertService } from '@app/alerting';
import { Backoff, backoffDelay, type BackoffPolicy, CLOCK, type Clock, sleep, type TimerHandle } from '@app/platform';
import type { ConfigType } from '@nestjs/config';
import { systemConfig } from '../config/system.config.js';
import { SourceLeases } from '../leases/source-leases.js';
import { SystemMetrics } from '../counters/system-metrics.js';
import { OutboxRepository, type PendingItem } from '../outbox/outbox.repository.js';
import { ExperienceApiClient } from './experience-api.client.js';

const UNREACHABLE = 'experience_api_unreachable';
const PRUNE_EVERY_MS = 3_600_000;
const FIRST_DELAY_MS = 250;
/** How long to wait before reading the outbox again when it had nothing to send, or could not be read. */
const IDLE_MS = 1_000;

/**
 * Sends outbox items to experience-api until each is accepted: in order within
 * a source (sources in parallel), only for sources this instance holds, and
 * retrying with backoff for as long as experience-api is away. Each round
 * offers a source's pending items (up to FORWARD_BATCH) in one batch
 * (`POST /entities`) and marks those accepted delivered in one statement, so
 * a crash re-sends at most the batch in flight, and experience-api's
 * idempotency on `id` answers its repeats as duplicates. A 4xx about an item
 * makes it a dead letter at once; a 5xx about an item (experience-api answered)
 * holds back its source only, for a bounded number of attempts, then makes it
 * a dead letter too.
 */
@Injectable()
export class OutboxForwarder implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxForwarder.name);
  private readonly stop = new AbortController();
  private nudged?: AbortController;
  private running?: Promise<void>;
  /** Waits between rounds while experience-api is away; also the wait of an item that got a 5xx, by its count of them. */
  private readonly retryPolicy: BackoffPolicy;
  private readonly away: Backoff;
  /** Source → when its first item, which got a 5xx, may be tried again. */
  private readonly heldBack = new Map<string, number>();
  private unreachableSince?: number;
  private alerted = false;
  private pruneTimer?: TimerHandle;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly client: ExperienceApiClient,
    private readonly leases: SourceLeases,
    private readonly alerts: AlertService,
    private readonly metrics: SystemMetrics,
    @Inject(systemConfig.KEY) private readonly config: ConfigType<typeof systemConfig>,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.retryPolicy = { initialDelayMs: FIRST_DELAY_MS, maxDelayMs: config.forwardRetryMaxMs, jitter: false };
    this.away = new Backoff(this.retryPolicy);
  }

  /** Whether experience-api answered the last attempt; undefined before any. */
  get experienceApiReachable(): boolean {
    return this.unreachableSince === undefined;
  }

  /** New items are in the outbox: stop waiting. */
  nudge(): void {
    this.nudged?.abort();
  }

  onApplicationBootstrap(): void {
    this.running = this.loop();
    this.schedulePrune();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.pruneTimer) this.clock.clearTimer(this.pruneTimer);
    this.stop.abort();
    this.nudge();
    await this.running;
  }

  private async loop(): Promise<void> {
    while (!this.stop.signal.aborted) {
      const now = this.clock.now();
      for (const [source, until] of this.heldBack) if (until <= now) this.heldBack.delete(source);
      let items: PendingItem[];
      try {
        items = await this.outbox.pending(
          this.leases.held().filter((source) => !this.heldBack.has(source)),
          this.config.forwardBatch,
        );
      } catch (error) {
        this.logger.warn(`cannot read the outbox: ${(error as Error).message}`);
        await sleep(IDLE_MS, this.stop.signal, this.clock);
        continue;
      }
      if (items.length === 0) {
        await this.idle(Math.min(IDLE_MS, ...[...this.heldBack.values()].map((until) => until - now)));
        continue;
      }
      const bySource = new Map<string, PendingItem[]>();
      for (const item of items) bySource.set(item.source, [...(bySource.get(item.source) ?? []), item]);
      const outcomes = await Promise.all([...bySource.values()].map((queue) => this.forward(queue)));
      if (outcomes.includes('retry')) await sleep(this.away.fail(), this.stop.signal, this.clock);
      else this.away.succeed();
    }
  }

  /** Sends one source's items in order and logs what experience-api took, one line for the batch. */
  private async forward(queue: PendingItem[]): Promise<'done' | 'held' | 'retry'> {
    const delivered: PendingItem[] = [];
    try {
      return await this.sendInOrder(queue, delivered);
    } finally {
      this.logForwarded(delivered);
    }
  }

  /**
   * Offers the source's items to experience-api in one go and acts on each
   * answer in order, up to the first item that must wait; the items accepted
   * are marked delivered in one statement and collected in `delivered`.
   */
  private async sendInOrder(queue: PendingItem[], delivered: PendingItem[]): Promise<'done' | 'held' | 'retry'> {
    if (this.stop.signal.aborted) return 'done';
    const outcomes = await this.client.publishAll(queue);
    const accepted: PendingItem[] = [];
    try {
      for (const [i, outcome] of outcomes.entries()) {
        const item = queue[i];
        if (outcome.kind === 'accepted') {
          accepted.push(item);
          this.reachable();
        } else if (outcome.kind === 'rejected') {
          this.reachable();
          await this.deadLetter(item, outcome.reason, 'for good');
        } else if (outcome.kind === 'server_error') {
          // it answered: experience-api is up, and this item alone waits, for a bounded number of attempts
          this.reachable();
          const errors = await this.outbox.noteServerError(item.position, outcome.reason);
          // the items after it were not tried: the next round offers them at once
          if (errors >= this.config.forwardServerErrorAttempts) {
            await this.deadLetter(item, outcome.reason, `after ${errors} attempts`);
            return 'done';
          }
          const waitMs = backoffDelay(this.retryPolicy, errors);
          this.logger.warn(
            `experience-api failed on item ${item.id} of ${item.source} (attempt ${errors} of ${this.config.forwardServerErrorAttempts}): ${outcome.reason}; trying it again in ${waitMs} ms`,
          );
          this.heldBack.set(item.source, this.clock.now() + waitMs);
          return 'held';
        } else {
          await this.outbox.noteAttempt(item.position, outcome.reason);
          this.unreachable(outcome.reason);
          return 'retry';
        }
      }
      return 'done';
    } catch (error) {
      this.logger.warn(`cannot update the outbox: ${(error as Error).message}`);
      return 'retry';
    } finally {
      await this.markDelivered(accepted, delivered);
    }
  }

  /** Marks what experience-api took as delivered, in one statement; on failure they are sent again, and answered as duplicates. */
  private async markDelivered(accepted: readonly PendingItem[], delivered: PendingItem[]): Promise<void> {
    if (accepted.length === 0) return;
    try {
      await this.outbox.markDelivered(accepted.map((item) => item.position));
    } catch (error) {
      this.logger.warn(`cannot mark ${accepted.length} forwarded items delivered (they will be sent again): ${(error as Error).message}`);
      return;
    }
    delivered.push(...accepted);
    this.metrics.forwarded.inc({ source: accepted[0].source }, accepted.length);
  }

  private logForwarded(delivered: readonly PendingItem[]): void {
    const [first, last] = [delivered.at(0), delivered.at(-1)];
    if (!first || !last) return;
    const ids = first === last ? first.id : `${first.id} … ${last.id}`;
    this.logger.log(`forwarded ${delivered.length} item${delivered.length === 1 ? '' : 's'} of ${first.source} (${ids})`);
  }

  private async deadLetter(item: PendingItem, reason: string, how: string): Promise<void> {
    await this.outbox.markFailed(item.position, reason);
    this.metrics.deadLetters.inc({ source: item.source });
    this.logger.error(`experience-api refused item ${item.id} of ${item.source} ${how}: ${reason}`);
    this.alerts.raise({
      kind: 'item_rejected',
      severity: 'error',
      subject: 'items refused by experience-api',
      details: { source: item.source, item_id: item.id, reason },
    });
  }

  private reachable(): void {
    if (this.unreachableSince === undefined) return;
    this.logger.log('experience-api reachable again; forwarding resumes');
    this.unreachableSince = undefined;
    if (this.alerted) this.alerts.resolve(UNREACHABLE, 'experience-api unreachable');
    this.alerted = false;
  }

  private unreachable(reason: string): void {
    const now = this.clock.now();
    if (this.unreachableSince === undefined) {
      this.unreachableSince = now;
      this.logger.warn(`experience-api unavailable (${reason}); items are kept and retried`);
    }
    if (!this.alerted && now - this.unreachableSince >= this.config.experienceApiAlertAfterMs) {
      this.alerted = true;
      this.logger.error(`experience-api unavailable for ${Math.round((now - this.unreachableSince) / 1000)} s: ${reason}`);
      this.alerts.raise({
        kind: UNREACHABLE,
        severity: 'critical',
        subject: 'experience-api unreachable',
        details: { url: this.config.experienceApiUrl.origin, reason },
      });
    }
  }

  private async idle(ms: number): Promise<void> {
    this.nudged = new AbortController();
    await sleep(ms, AbortSignal.any([this.stop.signal, this.nudged.signal]), this.clock);
  }

  private schedulePrune(): void {
    this.pruneTimer = this.clock.setTimer(() => {
      void this.prune().finally(() => {
        if (!this.stop.signal.aborted) this.schedulePrune();
      });
    }, PRUNE_EVERY_MS);
  }

  private async prune(): Promise<void> {
    try {
      const pruned = await this.outbox.prune(this.config.outboxRetentionMs);
      if (pruned > 0) this.logger.log(`pruned ${pruned} delivered item(s) past retention`);
    } catch (error) {
      this.logger.warn(`could not prune the outbox: ${(error as Error).message}`);
    }
  }
}
