import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AlertService } from '@app/alerting';
import { CLOCK, type Clock, type TimerHandle } from '@app/platform';
import { DatabaseHealth } from './database-health.js';
import { DATABASE_MONITOR_OPTIONS, type DatabaseMonitorOptions } from './database-options.js';

const KIND = 'database_unreachable';
const SUBJECT = 'database unreachable';

/**
 * Probes the database on a timer, so that DevOps hear when it goes away and
 * when it is back, traffic or not: a critical `database_unreachable` alert,
 * then a "resolved" mail.
 */
@Injectable()
export class DatabaseMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseMonitor.name);
  private timer?: TimerHandle;
  private reachable = true;
  private stopped = false;

  constructor(
    private readonly database: DatabaseHealth,
    private readonly alerts: AlertService,
    @Inject(DATABASE_MONITOR_OPTIONS) private readonly options: DatabaseMonitorOptions,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Whether the last probe found the database answering. */
  get isReachable(): boolean {
    return this.reachable;
  }

  onApplicationBootstrap(): void {
    this.schedule();
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) this.clock.clearTimer(this.timer);
  }

  private schedule(): void {
    if (!this.stopped) this.timer = this.clock.setTimer(() => void this.probe(), this.options.intervalMs);
  }

  /** One probe at a time: the next is scheduled when this one has its answer. */
  private async probe(): Promise<void> {
    const status = await this.database.check();
    if (!status.up && this.reachable) {
      this.logger.error(`database unreachable: ${status.message}`);
      this.alerts.raise({ kind: KIND, severity: 'critical', subject: SUBJECT, details: { error: status.message ?? 'no answer' } });
    } else if (status.up && !this.reachable) {
      this.logger.log('database reachable again');
      this.alerts.resolve(KIND, SUBJECT);
    }
    this.reachable = status.up;
    this.schedule();
  }
}
