import { Module } from '@nestjs/common';
import { DatabaseMonitor } from './database-monitor.service.js';
import { HealthController } from './health.controller.js';

/** `GET /health`, and the probe that alerts DevOps when the database goes away. */
@Module({
  controllers: [HealthController],
  providers: [DatabaseMonitor],
})
export class HealthModule {}
