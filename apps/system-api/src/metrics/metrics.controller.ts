import { Controller, Get, Header, Res } from '@nestjs/common';
import type { Response } from 'express';
import { Gauge } from 'prom-client';
import { OutboxRepository } from '../outbox/outbox.repository.js';
import { SourceRunner } from '../sources/source-runner.service.js';
import { SystemMetrics } from './system-metrics.js';

const STATES = ['starting', 'up', 'down', 'standby', 'stopped'] as const;

@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: SystemMetrics,
    outbox: OutboxRepository,
    runner: SourceRunner,
  ) {
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
        for (const status of runner.statuses()) for (const state of STATES) this.set({ source: status.name, state }, status.state === state ? 1 : 0);
      },
    });
  }

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Res() response: Response): Promise<void> {
    response.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
