import { type DynamicModule, Module } from '@nestjs/common';
import { AlertingModule, alertingConfig } from '@app/alerting';
import { DatabaseModule } from '@app/database';
import { ClockModule, configModule, loadedNamespace, ShutdownLog } from '@app/platform';
import { type SystemConfig, systemConfig } from './config/system.config.js';
import { ForwardingModule } from './forwarding/forwarding.module.js';
import { HealthModule } from './health/health.module.js';
import { SourceLeaseEntity } from './leases/source-lease.entity.js';
import { LeasesModule } from './leases/leases.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { CreateOutbox1763780000000 } from './migrations/1763780000000-create-outbox.js';
import { OutboxServerErrors1764640000000 } from './migrations/1764640000000-outbox-server-errors.js';
import { DeadLetterEntity, OutboxEntryEntity, SourceCursorEntity } from './outbox/outbox.entities.js';
import { OutboxModule } from './outbox/outbox.module.js';
import { SourcesModule } from './sources/sources.module.js';

@Module({})
export class SystemApiModule {
  static forRoot(config: SystemConfig): DynamicModule {
    return {
      module: SystemApiModule,
      imports: [
        configModule(loadedNamespace(systemConfig, config), loadedNamespace(alertingConfig, config.alerts)),
        ClockModule.forRoot(),
        DatabaseModule.forRoot({
          url: config.databaseUrl,
          pgliteDataDir: config.pgliteDataDir,
          applicationName: 'system-api',
          migrationsTableName: 'system_api_migrations',
          entities: [OutboxEntryEntity, DeadLetterEntity, SourceCursorEntity, SourceLeaseEntity],
          migrations: [CreateOutbox1763780000000, OutboxServerErrors1764640000000],
          monitor: { intervalMs: config.healthCheckIntervalMs },
        }),
        AlertingModule.forConfig({ app: 'system-api', instanceId: config.instanceId }),
        SourcesModule,
        OutboxModule,
        ForwardingModule,
        LeasesModule,
        HealthModule,
        MetricsModule,
      ],
      providers: [ShutdownLog],
    };
  }
}
