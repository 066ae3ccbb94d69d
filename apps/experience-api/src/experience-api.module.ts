import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AlertingModule } from '@app/alerting';
import { DatabaseModule } from '@app/database';
import { configModule, loadedNamespace, ShutdownLog } from '@app/platform';
import { SocketRegistryModule } from '@app/socket-registry';
import { TOKEN_STORE_ENTITIES, TOKEN_STORE_MIGRATIONS, TokenStoreModule } from '@app/token-store';
import { AdminModule } from './admin/admin.module.js';
import { type ExperienceConfig, experienceConfig } from './config/experience.config.js';
import { ConsumersController } from './consumers/consumers.controller.js';
import { GatewayModule } from './gateway/gateway.module.js';
import { DatabaseMonitor } from './health/database-monitor.service.js';
import { HealthController } from './health/health.controller.js';
import { ApiErrorFilter } from './http/api-error.filter.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { CreatePublications1763776900000 } from './publishing/migrations/1763776900000-create-publications.js';
import { PublicationEntity } from './publishing/publication.entity.js';
import { PublishingModule } from './publishing/publishing.module.js';

@Global()
@Module({})
export class ExperienceApiModule {
  static forRoot(config: ExperienceConfig): DynamicModule {
    const tokenStore = TokenStoreModule.forRoot({
      tokenIdleTtlMs: config.tokenIdleTtlMs,
      socketLeaseMs: config.socketLeaseMs,
      instanceId: config.instanceId,
    });
    return {
      module: ExperienceApiModule,
      imports: [
        configModule(loadedNamespace(experienceConfig, config)),
        DatabaseModule.forRoot({
          url: config.databaseUrl,
          pgliteDataDir: config.pgliteDataDir,
          applicationName: 'experience-api',
          migrationsTableName: 'schema_migrations',
          entities: [...TOKEN_STORE_ENTITIES, PublicationEntity],
          migrations: [...TOKEN_STORE_MIGRATIONS, CreatePublications1763776900000],
        }),
        tokenStore,
        AlertingModule.forRoot({ app: 'experience-api', instanceId: config.instanceId, ...config.alerts }),
        SocketRegistryModule.forRoot({ maxBufferedBytes: config.maxBufferedBytes }),
        MetricsModule,
        AdminModule,
        GatewayModule,
        PublishingModule,
      ],
      controllers: [ConsumersController, HealthController],
      providers: [{ provide: APP_FILTER, useClass: ApiErrorFilter }, DatabaseMonitor, ShutdownLog],
      exports: [tokenStore],
    };
  }
}
