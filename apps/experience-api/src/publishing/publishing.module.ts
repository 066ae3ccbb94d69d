import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { AllowedPublisherGuard } from './allowed-publisher.guard.js';
import { EntityController } from './entity.controller.js';
import { EntityPublisher } from './entity-publisher.service.js';
import { PublicationLog, TypeOrmPublicationLog } from './publication-log.js';

@Module({
  imports: [MetricsModule],
  controllers: [EntityController],
  providers: [AllowedPublisherGuard, EntityPublisher, { provide: PublicationLog, useClass: TypeOrmPublicationLog }],
})
export class PublishingModule {}
