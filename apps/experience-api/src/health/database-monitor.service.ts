import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { AlertService } from '@app/alerting';
import { DatabaseHealth } from '@app/database';
import type { ConfigType } from '@nestjs/config';
import { experienceConfig } from '../config/experience.config.js';

const KIND = 'database_unreachable';
const SUBJECT = 'database unreachable';

/** Probes the database on a timer, so that DevOps hear when it goes away and when it is back, traffic or not. */
@Injectable()
export class DatabaseMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(DatabaseMonitor.name);
  private timer?: NodeJS.Timeout;
  private reachable = true;
  private probing = false;

  constructor(
    private readonly database: DatabaseHealth,
    private readonly alerts: AlertService,
    @Inject(experienceConfig.KEY) private readonly config: ConfigType<typeof experienceConfig>,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.probe(), this.config.healthCheckIntervalMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      const status = await this.database.check();
      if (!status.up && this.reachable) {
        this.logger.error(`database unreachable: ${status.message}`);
        this.alerts.raise({ kind: KIND, severity: 'critical', subject: SUBJECT, details: { error: status.message } });
      } else if (status.up && !this.reachable) {
        this.logger.log('database reachable again');
        this.alerts.resolve(KIND, SUBJECT);
      }
      this.reachable = status.up;
    } finally {
      this.probing = false;
    }
  }
}
