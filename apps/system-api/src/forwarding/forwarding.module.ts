import { Module } from '@nestjs/common';
import { LeasesModule } from '../leases/leases.module.js';
import { CountersModule } from '../counters/counters.module.js';
import { OutboxModule } from '../outbox/outbox.module.js';
import { ExperienceApiClient } from './experience-api.client.js';
import { HttpExperienceApiClient } from './http-experience-api.client.js';
import { OutboxForwarder } from './outbox-forwarder.service.js';

/** Sends the outbox to experience-api's `POST /entity` until each item is accepted. */
@Module({
  imports: [OutboxModule, LeasesModule, CountersModule],
  providers: [{ provide: ExperienceApiClient, useClass: HttpExperienceApiClient }, OutboxForwarder],
  exports: [OutboxForwarder],
})
export class ForwardingModule {}
