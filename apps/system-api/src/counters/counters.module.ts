import { Module } from '@nestjs/common';
import { SystemMetrics } from './system-metrics.js';

/** The registry and the counters that sources, the sink and the forwarder move. */
@Module({
  providers: [SystemMetrics],
  exports: [SystemMetrics],
})
export class CountersModule {}
