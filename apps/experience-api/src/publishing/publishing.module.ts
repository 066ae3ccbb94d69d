import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { AllowedPublisherGuard } from './allowed-publisher.guard.js';
import { EntityBroker } from './entity-broker.js';
import { EntityController } from './entity.controller.js';
import { EntityPublisher } from './entity-publisher.service.js';
import { LocalEntityBroker } from './local-entity-broker.js';
import { PublicationLog, TypeOrmPublicationLog } from './publication-log.js';

/** `POST /entity`: the allow-list, the batching publisher, and the broker it publishes through. */
@Module({
  imports: [MetricsModule],
  controllers: [EntityController],
  providers: [
    AllowedPublisherGuard,
    EntityPublisher,
    { provide: EntityBroker, useClass: LocalEntityBroker },
    { provide: PublicationLog, useClass: TypeOrmPublicationLog },
  ],
})
export class PublishingModule {}
