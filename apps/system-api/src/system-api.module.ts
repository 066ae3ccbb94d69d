import { type DynamicModule, Module } from '@nestjs/common';
import { AlertingModule } from '@app/alerting';
import { DatabaseModule } from '@app/database';
import { configModule, loadedNamespace, ShutdownLog } from '@app/platform';
import { type SystemConfig, systemConfig } from './config/system.config.js';
import { HealthController } from './health/health.controller.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { SystemMetrics } from './metrics/system-metrics.js';
import { ExperienceApiClient } from './outbox/experience-api.client.js';
import { CreateOutbox1763780000000 } from './outbox/migrations/1763780000000-create-outbox.js';
import { OutboxServerErrors1764640000000 } from './outbox/migrations/1764640000000-outbox-server-errors.js';
import { DeadLetterEntity, OutboxEntryEntity, SourceCursorEntity, SourceLeaseEntity } from './outbox/outbox.entities.js';
import { OutboxForwarder } from './outbox/outbox-forwarder.service.js';
import { OutboxRepository } from './outbox/outbox.repository.js';
import { SourceLeases } from './sources/source-leases.js';
import { SourceRunner } from './sources/source-runner.service.js';

@Module({})
export class SystemApiModule {
  static forRoot(config: SystemConfig): DynamicModule {
    return {
      module: SystemApiModule,
      imports: [
        configModule(loadedNamespace(systemConfig, config)),
        DatabaseModule.forRoot({
          url: config.databaseUrl,
          pgliteDataDir: config.pgliteDataDir,
          applicationName: 'system-api',
          migrationsTableName: 'system_api_migrations',
          entities: [OutboxEntryEntity, DeadLetterEntity, SourceCursorEntity, SourceLeaseEntity],
          migrations: [CreateOutbox1763780000000, OutboxServerErrors1764640000000],
        }),
        AlertingModule.forRoot({ app: 'system-api', instanceId: config.instanceId, ...config.alerts }),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        SystemMetrics,
        OutboxRepository,
        ExperienceApiClient,
        OutboxForwarder,
        SourceLeases,
        SourceRunner,
        ShutdownLog,
      ],
    };
  }
}
