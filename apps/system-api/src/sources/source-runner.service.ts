import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { AlertService } from '@app/alerting';
import type { ConfigType } from '@nestjs/config';
import { systemConfig } from '../config/system.config.js';
import { SystemMetrics } from '../metrics/system-metrics.js';
import { OutboxForwarder } from '../outbox/outbox-forwarder.service.js';
import { OutboxRepository } from '../outbox/outbox.repository.js';
import { createSource } from './source-factory.js';
import { SourceLeases } from './source-leases.js';
import { SourceWorker, type SourceStatus } from './source-worker.js';

/** Starts a worker per configured source and stops them all at shutdown. */
@Injectable()
export class SourceRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SourceRunner.name);
  private readonly workers: SourceWorker[];

  constructor(
    @Inject(systemConfig.KEY) config: ConfigType<typeof systemConfig>,
    outbox: OutboxRepository,
    private readonly leases: SourceLeases,
    alerts: AlertService,
    metrics: SystemMetrics,
    forwarder: OutboxForwarder,
  ) {
    const parts = { outbox, leases, alerts, metrics, stored: () => forwarder.nudge() };
    this.workers = config.sources.map((definition) => new SourceWorker(definition, createSource(definition, config.env), parts));
  }

  onApplicationBootstrap(): void {
    if (this.workers.length === 0) this.logger.warn('no sources configured (SOURCES_FILE): nothing will be polled');
    for (const worker of this.workers) worker.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.stop()));
    await this.leases.releaseAll().catch((error: Error) => this.logger.warn(`could not release source leases: ${error.message}`));
  }

  statuses(): SourceStatus[] {
    return this.workers.map((worker) => worker.status());
  }
}
