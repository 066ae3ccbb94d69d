import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { AlertService } from '@app/alerting';
import { CLOCK, type Clock } from '@app/platform';
import type { ConfigType } from '@nestjs/config';
import { systemConfig } from '../config/system.config.js';
import { SourceLeases } from '../leases/source-leases.js';
import { SystemMetrics } from '../counters/system-metrics.js';
import { OutboxSinks } from '../sink/outbox-sinks.js';
import { ItemMapper } from './item-mapper.js';
import { createSource } from './source-factory.js';
import type { SourceStatus } from './source-status.js';
import { SourceWorker } from './source-worker.js';

/** Starts a worker per configured source, each handing its items to its own sink, and stops them all at shutdown. */
@Injectable()
export class SourceRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SourceRunner.name);
  private readonly workers: SourceWorker[];

  constructor(
    @Inject(systemConfig.KEY) config: ConfigType<typeof systemConfig>,
    @Inject(CLOCK) clock: Clock,
    sinks: OutboxSinks,
    private readonly leases: SourceLeases,
    alerts: AlertService,
    metrics: SystemMetrics,
  ) {
    this.workers = config.sources.map((definition) => {
      const sink = sinks.for(definition.name, new ItemMapper(definition.name, definition.item));
      return new SourceWorker(definition, createSource(definition, config.env), { sink, leases, alerts, metrics, clock });
    });
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
