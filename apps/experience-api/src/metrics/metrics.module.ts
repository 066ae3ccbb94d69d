import { Module } from '@nestjs/common';
import { GatewayMetrics } from './gateway-metrics.js';
import { MetricsController } from './metrics.controller.js';
import { RecentRefusals } from './recent-refusals.js';

/** What the gateway counts (`/metrics`) and the refusals it saw lately (the console's `GET /admin/activity`). */
@Module({
  controllers: [MetricsController],
  providers: [GatewayMetrics, RecentRefusals],
  exports: [GatewayMetrics, RecentRefusals],
})
export class MetricsModule {}
