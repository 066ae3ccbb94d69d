import { Backoff, systemClock, type Clock, type TimerHandle } from '@app/platform';
import { Logger } from '@nestjs/common';
import type { AlertMail } from './alert-mail.js';
import { MailRejectedError, type MailTransport } from './mail-transport.js';

export interface MailQueueOptions {
  readonly limit: number;
  readonly maxPerHour: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
}

/**
 * Sends mails one at a time, off the caller's path. The queue is bounded
 * (the oldest mail gives way), an unreachable server is retried with
 * exponential backoff for as long as it takes, and no more than `maxPerHour`
 * mails leave in any hour: the ones held back are counted, and the count
 * rides on the next mail that may go.
 */
export class MailQueue {
  private readonly logger = new Logger('AlertMail');
  private readonly waiting: AlertMail[] = [];
  private readonly sentAt: number[] = [];
  private suppressed = 0;
  private dropped = 0;
  private sending = false;
  private readonly backoff: Backoff;
  private retryTimer?: TimerHandle;
  private idle: Array<() => void> = [];

  constructor(
    private readonly transport: MailTransport,
    private readonly options: MailQueueOptions,
    private readonly clock: Clock = systemClock,
  ) {
    this.backoff = new Backoff({ initialDelayMs: options.retryInitialMs, maxDelayMs: options.retryMaxMs, jitter: false });
  }

  get depth(): number {
    return this.waiting.length;
  }

  enqueue(mail: AlertMail): void {
    if (!this.allowedThisHour()) {
      this.suppressed++;
      this.logger.warn(`alert mail held back by the hourly ceiling (${this.options.maxPerHour}/h): ${mail.subject}`);
      return;
    }
    this.sentAt.push(this.clock.now());
    if (this.waiting.length >= this.options.limit) {
      const oldest = this.waiting.shift();
      this.dropped++;
      this.logger.error(`alert mail queue full (${this.options.limit}); dropped: ${oldest?.subject}`);
    }
    this.waiting.push(this.withNotes(mail));
    void this.pump();
  }

  /** Resolves once nothing is waiting, or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<void> {
    if (this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.clock.setTimer(resolve, timeoutMs);
      this.idle.push(() => {
        this.clock.clearTimer(timer);
        resolve();
      });
    });
  }

  stop(): void {
    if (this.retryTimer) this.clock.clearTimer(this.retryTimer);
    this.retryTimer = undefined;
  }

  private async pump(): Promise<void> {
    if (this.sending || this.retryTimer) return;
    this.sending = true;
    try {
      while (this.waiting.length > 0) {
        const mail = this.waiting[0];
        try {
          await this.transport.send(mail);
          this.logger.log(`alert mailed via ${this.transport.describe()}: ${mail.subject}`);
          this.waiting.shift();
          this.backoff.succeed();
        } catch (error) {
          if (error instanceof MailRejectedError) {
            this.logger.error(`SMTP server ${this.transport.describe()} refused an alert mail, dropped: ${error.message}`);
            this.waiting.shift();
            continue;
          }
          const delayMs = this.backoff.fail();
          this.logger.warn(
            `SMTP server ${this.transport.describe()} unreachable (${(error as Error).message}); ` +
              `${this.waiting.length} alert mail(s) waiting, next try in ${delayMs} ms`,
          );
          this.retryTimer = this.clock.setTimer(() => {
            this.retryTimer = undefined;
            void this.pump();
          }, delayMs);
          return;
        }
      }
      for (const resolve of this.idle.splice(0)) resolve();
    } finally {
      this.sending = false;
    }
  }

  private allowedThisHour(): boolean {
    const hourAgo = this.clock.now() - 3_600_000;
    while (this.sentAt.length > 0 && this.sentAt[0] <= hourAgo) this.sentAt.shift();
    return this.sentAt.length < this.options.maxPerHour;
  }

  private withNotes(mail: AlertMail): AlertMail {
    const notes: string[] = [];
    if (this.suppressed > 0) notes.push(`${this.suppressed} earlier alert mail(s) were held back by the ceiling of ${this.options.maxPerHour} per hour.`);
    if (this.dropped > 0) notes.push(`${this.dropped} earlier alert mail(s) were dropped while the SMTP server was unreachable.`);
    this.suppressed = 0;
    this.dropped = 0;
    return notes.length === 0 ? mail : { subject: mail.subject, text: `${mail.text}\n\n${notes.join('\n')}` };
  }
}
