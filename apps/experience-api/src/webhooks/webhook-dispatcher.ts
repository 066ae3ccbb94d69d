import { randomUUID } from 'node:crypto';
import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { AlertService } from '@app/alerting';
import { Backoff, CLOCK, type Clock, sleep } from '@app/platform';
import { experienceConfig, type WebhookEventName, type WebhookSettings } from '../config/experience.config.js';
import type { SocketEventName, SocketEventPayloads } from '../socket-events/socket-events.js';
import { type WebhookData, WEBHOOK_TRIGGERS } from './webhook-events.js';
import { WebhookMetrics } from './webhook-metrics.js';
import { signedHeaders } from './webhook-signature.js';
import { describe, WebhookTransport } from './webhook-transport.js';

/** One event on its way to the webhook: its id and body stay the same on every attempt. */
interface Delivery {
  readonly id: string;
  readonly event: WebhookEventName;
  readonly body: string;
}

export const WEBHOOK_FAILING = { kind: 'webhook_failing', subject: 'webhook deliveries failing' } as const;

/**
 * Posts the triggers named in WEBHOOK_EVENTS to WEBHOOK_URL, off the path
 * that fired them: a trigger only queues its delivery (never waits, never
 * throws), and up to WEBHOOK_CONCURRENCY deliveries are posted at once.
 *
 * A delivery is a signed POST (see webhook-signature.ts) answered with a 2xx
 * in WEBHOOK_TIMEOUT; anything else is retried after a growing wait
 * (WEBHOOK_RETRY_*), WEBHOOK_RETRIES times, then given up. The queue holds
 * WEBHOOK_QUEUE_LIMIT deliveries, waiting and in flight; when it is full the
 * oldest waiting one is dropped for the new one (the freshest events matter
 * most to a receiver catching up). A delivery given up or dropped raises the
 * `webhook_failing` alert, which AlertService folds into one, and the next
 * delivery that succeeds resolves it.
 */
@Injectable()
export class WebhookDispatcher implements OnModuleInit, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private readonly settings?: WebhookSettings;
  private waiting: Delivery[] = [];
  private inFlight = 0;
  /** The alert is raised and not yet resolved. */
  private failing = false;
  /** Failed attempts since the last delivery: the first of a run is logged as a warning, the rest at debug level. */
  private failedRun = 0;
  private droppedRun = 0;
  private readonly stopping = new AbortController();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    @Inject(experienceConfig.KEY) config: ConfigType<typeof experienceConfig>,
    private readonly emitter: EventEmitter2,
    private readonly transport: WebhookTransport,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly alerts: AlertService,
    private readonly metrics: WebhookMetrics,
  ) {
    this.settings = config.webhooks;
  }

  onModuleInit(): void {
    if (!this.settings) return;
    for (const event of this.settings.events) {
      const { trigger, data } = WEBHOOK_TRIGGERS[event];
      const listener = (payload: SocketEventPayloads[SocketEventName]) => this.enqueue(event, data(payload));
      this.emitter.on(trigger, listener);
      this.unsubscribe.push(() => this.emitter.off(trigger, listener));
    }
    this.logger.log(`webhooks: ${this.settings.events.join(', ')} are posted to ${describe(this.settings.url)}`);
  }

  /** Deliveries waiting or in flight. */
  get depth(): number {
    return this.waiting.length + this.inFlight;
  }

  /** Queues the delivery of one event; never waits, never throws. */
  enqueue(event: WebhookEventName, data: WebhookData): void {
    const settings = this.settings;
    if (!settings || this.stopping.signal.aborted) return;
    try {
      const id = randomUUID();
      const delivery: Delivery = { id, event, body: JSON.stringify({ event, id, timestamp: new Date(this.clock.now()).toISOString(), data }) };
      if (this.depth >= settings.queueLimit) {
        // every slot busy and nothing waiting (a limit below the concurrency): the new one gives way
        const dropped = this.waiting.shift() ?? delivery;
        this.dropped(dropped, settings);
        if (dropped === delivery) return;
      }
      this.waiting.push(delivery);
      this.pump(settings);
    } catch (error) {
      this.logger.error(`could not queue a webhook ${event}: ${(error as Error).message}`);
    }
  }

  private pump(settings: WebhookSettings): void {
    while (this.inFlight < settings.concurrency && this.waiting.length > 0) {
      const delivery = this.waiting.shift()!;
      this.inFlight++;
      void this.deliver(delivery, settings).finally(() => {
        this.inFlight--;
        this.metrics.queueDepth.set(this.depth);
        this.pump(settings);
      });
    }
    this.metrics.queueDepth.set(this.depth);
  }

  private async deliver(delivery: Delivery, settings: WebhookSettings): Promise<void> {
    const backoff = new Backoff({ initialDelayMs: settings.retryInitialDelayMs, maxDelayMs: settings.retryMaxDelayMs });
    for (;;) {
      const failure = await this.attempt(delivery, settings);
      if (failure === undefined) return this.delivered();
      this.metrics.failedAttempts.inc();
      if (backoff.failures >= settings.retries) return this.givenUp(delivery, failure, backoff.failures + 1, settings);
      const waitMs = backoff.fail();
      const line = `webhook ${delivery.event} ${delivery.id}: ${failure}; retrying in ${waitMs} ms`;
      if (this.failedRun++ === 0) this.logger.warn(line);
      else this.logger.debug(line);
      await sleep(waitMs, this.stopping.signal, this.clock);
      if (this.stopping.signal.aborted) {
        this.metrics.deliveries.inc({ outcome: 'abandoned' });
        return;
      }
    }
  }

  /** Undefined when the webhook took it; otherwise why not. */
  private async attempt(delivery: Delivery, settings: WebhookSettings): Promise<string | undefined> {
    try {
      const answer = await this.transport.post(
        settings.url,
        signedHeaders(settings.secret, delivery, delivery.body, this.clock.now()),
        delivery.body,
        settings.timeoutMs,
      );
      return answer.status >= 200 && answer.status < 300 ? undefined : `answered ${answer.status}`;
    } catch (error) {
      return (error as Error).message;
    }
  }

  private delivered(): void {
    this.metrics.deliveries.inc({ outcome: 'delivered' });
    if (this.failedRun > 0 || this.droppedRun > 0) {
      this.logger.log(`webhook deliveries succeed again (${this.failedRun} failed attempts, ${this.droppedRun} dropped for a full queue)`);
    }
    this.failedRun = 0;
    this.droppedRun = 0;
    if (this.failing) {
      this.failing = false;
      this.alerts.resolve(WEBHOOK_FAILING.kind, WEBHOOK_FAILING.subject);
    }
  }

  private givenUp(delivery: Delivery, failure: string, attempts: number, settings: WebhookSettings): void {
    this.metrics.deliveries.inc({ outcome: 'given_up' });
    this.logger.warn(`webhook ${delivery.event} ${delivery.id} given up after ${attempts} attempts: ${failure}`);
    this.alert({ reason: 'given_up', event: delivery.event, last_failure: failure, url: describe(settings.url) });
  }

  private dropped(delivery: Delivery, settings: WebhookSettings): void {
    this.metrics.deliveries.inc({ outcome: 'dropped' });
    if (this.droppedRun++ === 0) {
      this.logger.warn(`webhook queue full (${settings.queueLimit} deliveries): dropping the oldest waiting ones, ${delivery.event} ${delivery.id} first`);
    }
    this.alert({ reason: 'queue_full', event: delivery.event, url: describe(settings.url) });
  }

  private alert(details: Record<string, string>): void {
    this.failing = true;
    this.alerts.raise({ kind: WEBHOOK_FAILING.kind, severity: 'error', subject: WEBHOOK_FAILING.subject, details });
  }

  /** Stops taking events and waiting out retries; what is still queued is lost, and counted. */
  beforeApplicationShutdown(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    this.stopping.abort();
    const abandoned = this.waiting.length;
    this.waiting = [];
    if (abandoned > 0) {
      this.metrics.deliveries.inc({ outcome: 'abandoned' }, abandoned);
      this.logger.warn(`${abandoned} webhook deliveries were still queued at shutdown and are not sent`);
    }
  }
}
