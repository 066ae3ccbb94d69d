import { systemClock, type Clock } from '@app/platform';
import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Alert } from './alert.js';
import { AlertFolder } from './alert-folder.js';
import type { AlertMail } from './alert-mail.js';
import { ALERTING_OPTIONS, type AlertingOptions } from './alerting.options.js';
import { MailQueue } from './mail-queue.js';
import { MailTransport } from './mail-transport.js';
import { type AlertKindSummary, RecentAlerts } from './recent-alerts.js';

/**
 * Raises DevOps alerts: folded per kind, mailed off the caller's path through
 * a bounded queue, or only logged when no SMTP server is configured. Never
 * throws and never waits, so it is safe on any request or handshake path.
 */
@Injectable()
export class AlertService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(AlertService.name);
  private readonly folder: AlertFolder;
  private readonly queue?: MailQueue;
  /** Kinds raised and not yet resolved, with when they started. */
  private readonly active = new Map<string, Date>();
  private readonly clock: Clock;
  private readonly recentKinds = new RecentAlerts();

  constructor(
    @Inject(ALERTING_OPTIONS) private readonly options: AlertingOptions,
    @Inject(MailTransport) private readonly transport: MailTransport | null,
  ) {
    this.clock = options.clock ?? systemClock;
    this.folder = new AlertFolder({ app: options.app, instanceId: options.instanceId, windowMs: options.foldWindowMs, clock: this.clock }, (mail) =>
      this.deliver(mail),
    );
    if (transport) {
      this.queue = new MailQueue(
        transport,
        {
          limit: options.queueLimit ?? 100,
          maxPerHour: options.maxMailsPerHour,
          retryInitialMs: options.retryInitialMs ?? 1_000,
          retryMaxMs: options.retryMaxMs ?? 60_000,
        },
        this.clock,
      );
    }
  }

  onModuleInit(): void {
    if (this.transport) {
      this.logger.log(`alerts are mailed to ${this.options.to.join(', ')} via ${this.transport.describe()}`);
    } else {
      this.logger.warn('SMTP_URL is not set: alerts are logged only, no mail is sent');
    }
  }

  raise(alert: Alert): void {
    try {
      if (!this.active.has(alert.kind)) this.active.set(alert.kind, new Date(this.clock.now()));
      this.recentKinds.raised(alert, this.clock.now());
      this.folder.add(alert);
    } catch (error) {
      this.logger.error(`could not raise alert ${alert.kind}: ${(error as Error).message}`);
    }
  }

  /** Ends a condition raised under `kind`: mails its last digest, then a "resolved" mail. */
  resolve(kind: string, subject: string): void {
    const since = this.active.get(kind);
    if (since === undefined) return;
    this.active.delete(kind);
    this.recentKinds.resolved(kind, this.clock.now());
    this.folder.close(kind);
    this.deliver(this.folder.resolved(subject, since));
  }

  /** The alerts raised lately, one per kind, newest first (details redacted as in a mail). */
  recent(): AlertKindSummary[] {
    return this.recentKinds.list();
  }

  /** Mails waiting for the SMTP server. */
  get backlog(): number {
    return this.queue?.depth ?? 0;
  }

  async onApplicationShutdown(): Promise<void> {
    this.folder.closeAll();
    if (this.queue) {
      await this.queue.drain(2_000);
      this.queue.stop();
    }
    this.transport?.close();
  }

  private deliver(mail: AlertMail): void {
    if (this.queue) this.queue.enqueue(mail);
    else this.logger.warn(`alert (logged only): ${mail.subject}\n${mail.text}`);
  }
}
