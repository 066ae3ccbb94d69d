import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { OutboxRepository } from '../outbox/outbox.repository.js';
import { SourceRunner } from '../sources/source-runner.service.js';
import { SOURCE_STATES } from '../sources/source-status.js';
import { SystemMetrics } from '../counters/system-metrics.js';

/** The gauges read at each scrape: the outbox depth and the state of each source. */
@Injectable()
export class SystemGauges {
  constructor(metrics: SystemMetrics, outbox: OutboxRepository, runner: SourceRunner) {
    new Gauge({
      name: 'system_api_outbox_pending',
      help: 'Outbox items not yet accepted by experience-api.',
      registers: [metrics.registry],
      async collect() {
        this.set((await outbox.depth()).pending);
      },
    });
    new Gauge({
      name: 'system_api_source_state',
      help: '1 for the state each source is in.',
      labelNames: ['source', 'state'] as const,
      registers: [metrics.registry],
      collect() {
        for (const status of runner.statuses()) for (const state of SOURCE_STATES) this.set({ source: status.name, state }, status.state === state ? 1 : 0);
      },
    });
  }
}
