import { type DynamicModule, Module } from '@nestjs/common';
import { AlertingModule } from '@app/alerting';
import { DatabaseModule } from '@app/database';
import { ShutdownLog } from '@app/platform';
import type { SystemConfig } from './config/system.config.js';
import { SYSTEM_CONFIG } from './config/system-config.token.js';
import { HealthController } from './health/health.controller.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { SystemMetrics } from './metrics/system-metrics.js';
import { ExperienceApiClient } from './outbox/experience-api.client.js';
import { CreateOutbox1763780000000 } from './outbox/migrations/1763780000000-create-outbox.js';
import { OutboxServerErrors1764640000000 } from './outbox/migrations/1764640000000-outbox-server-errors.js';
import { DeadLetterEntity, OutboxEntryEntity, SourceCursorEntity, SourceLeaseEntity } from './outbox/outbox.entities.js';
import { OutboxForwarder } from './outbox/outbox-forwarder.service.js';
import { OutboxRepository } from './outbox/outbox.repository.js';
import type { SourceDefinition } from './sources/source-definition.js';
import { SOURCE_DEFINITIONS } from './sources/source-definitions.token.js';
import { SourceLeases } from './sources/source-leases.js';
import { SourceRunner } from './sources/source-runner.service.js';

@Module({})
export class SystemApiModule {
  static forRoot(config: SystemConfig, sources: SourceDefinition[]): DynamicModule {
    return {
      module: SystemApiModule,
      imports: [
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
        { provide: SYSTEM_CONFIG, useValue: config },
        { provide: SOURCE_DEFINITIONS, useValue: sources },
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
