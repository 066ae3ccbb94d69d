import { Module } from '@nestjs/common';
import { HealthController } from './health.controller.js';

/** `GET /health`. The database's outages are alerted by the DatabaseMonitor of `@app/database`. */
@Module({
  controllers: [HealthController],
})
export class HealthModule {}
