import { type DynamicModule, Global, Module } from '@nestjs/common';
import { AlertingModule } from '@app/alerting';
import { DatabaseModule } from '@app/database';
import { ShutdownLog, systemClock } from '@app/platform';
import { CLOCK } from './clock.token.js';
import type { SystemConfig } from './config/system.config.js';
import { SYSTEM_CONFIG } from './config/system-config.token.js';
import { ForwardingModule } from './forwarding/forwarding.module.js';
import { HealthModule } from './health/health.module.js';
import { SourceLeaseEntity } from './leases/source-lease.entity.js';
import { LeasesModule } from './leases/leases.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { CreateOutbox1763780000000 } from './migrations/1763780000000-create-outbox.js';
import { OutboxServerErrors1764640000000 } from './migrations/1764640000000-outbox-server-errors.js';
import { DeadLetterEntity, OutboxEntryEntity, SourceCursorEntity } from './outbox/outbox.entities.js';
import { OutboxModule } from './outbox/outbox.module.js';
import type { SourceDefinition } from './sources/source-definition.js';
import { SOURCE_DEFINITIONS } from './sources/source-definitions.token.js';
import { SourcesModule } from './sources/sources.module.js';

/** What every feature module may read: the validated configuration, the sources, and the clock. */
@Global()
@Module({})
class SystemSettingsModule {
  static forRoot(config: SystemConfig, sources: SourceDefinition[]): DynamicModule {
    return {
      module: SystemSettingsModule,
      providers: [
        { provide: SYSTEM_CONFIG, useValue: config },
        { provide: SOURCE_DEFINITIONS, useValue: sources },
        { provide: CLOCK, useValue: systemClock },
      ],
      exports: [SYSTEM_CONFIG, SOURCE_DEFINITIONS, CLOCK],
    };
  }
}

@Module({})
export class SystemApiModule {
  static forRoot(config: SystemConfig, sources: SourceDefinition[]): DynamicModule {
    return {
      module: SystemApiModule,
      imports: [
        SystemSettingsModule.forRoot(config, sources),
        DatabaseModule.forRoot({
          url: config.databaseUrl,
          pgliteDataDir: config.pgliteDataDir,
          applicationName: 'system-api',
          migrationsTableName: 'system_api_migrations',
          entities: [OutboxEntryEntity, DeadLetterEntity, SourceCursorEntity, SourceLeaseEntity],
          migrations: [CreateOutbox1763780000000, OutboxServerErrors1764640000000],
        }),
        AlertingModule.forRoot({ app: 'system-api', instanceId: config.instanceId, ...config.alerts }),
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
