import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { HistoryModule } from '../history/history.module.js';
import { MetricsModule } from '../metrics/metrics.module.js';
import { SocketEventsModule } from '../socket-events/socket-events.module.js';
import { AllowedPublisherGuard } from './allowed-publisher.guard.js';
import { BulkPublishController } from './bulk-publish.controller.js';
import { EntityBroker } from './entity-broker.js';
import { EntityController } from './entity.controller.js';
import { EntityFanout } from './entity-fanout.js';
import { EntityPublisher } from './entity-publisher.service.js';
import { PublicationLog, TypeOrmPublicationLog } from './publication-log.js';

/**
 * `POST /entity` and `POST /entities`: the allow-list, the batching publisher, and the broker it
 * publishes through, which the composition root chooses: LocalEntityBroker
 * for an instance alone, the cluster's broker over Redis for several.
 */
@Module({})
export class PublishingModule {
  static forRoot(options: { readonly broker: Type<EntityBroker> }): DynamicModule {
    return {
      module: PublishingModule,
      imports: [MetricsModule, SocketEventsModule, HistoryModule],
      controllers: [EntityController, BulkPublishController],
      providers: [
        AllowedPublisherGuard,
        EntityPublisher,
        EntityFanout,
        { provide: EntityBroker, useClass: options.broker },
        { provide: PublicationLog, useClass: TypeOrmPublicationLog },
      ],
    };
  }
}
