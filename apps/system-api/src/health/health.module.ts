import { Module } from '@nestjs/common';
import { ForwardingModule } from '../forwarding/forwarding.module.js';
import { OutboxModule } from '../outbox/outbox.module.js';
import { SourcesModule } from '../sources/sources.module.js';
import { HealthController } from './health.controller.js';

/** GET /health: the database, experience-api, each source, the outbox depth. */
@Module({
  imports: [OutboxModule, SourcesModule, ForwardingModule],
  controllers: [HealthController],
})
export class HealthModule {}
