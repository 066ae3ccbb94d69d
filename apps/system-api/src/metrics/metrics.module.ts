import { Module } from '@nestjs/common';
import { OutboxModule } from '../outbox/outbox.module.js';
import { SourcesModule } from '../sources/sources.module.js';
import { MetricsController } from './metrics.controller.js';
import { CountersModule } from '../counters/counters.module.js';
import { SystemGauges } from './system-gauges.js';

/** GET /metrics: the counters, and gauges of the outbox and the sources. */
@Module({
  imports: [CountersModule, OutboxModule, SourcesModule],
  controllers: [MetricsController],
  providers: [SystemGauges],
})
export class MetricsModule {}
