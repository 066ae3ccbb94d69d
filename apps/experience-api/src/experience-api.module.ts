import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { AlertingModule, alertingConfig } from '@app/alerting';
import { DatabaseModule } from '@app/database';
import { ClockModule, configModule, loadedNamespace, ShutdownLog } from '@app/platform';
import { SocketRegistryModule } from '@app/socket-registry';
import { TOKEN_STORE_ENTITIES, TOKEN_STORE_MIGRATIONS, TokenStoreModule } from '@app/token-store';
import { AdminModule } from './admin/admin.module.js';
import { API_ERROR_STATUSES } from './api-error-statuses.js';
import { ClusterModule } from './cluster/cluster.module.js';
import { RedisClientChanges } from './cluster/redis-client-changes.js';
import { RedisDeliveryBus } from './cluster/redis-delivery-bus.js';
import { RedisEntityBroker } from './cluster/redis-entity-broker.js';
import { type ExperienceConfig, experienceConfig } from './config/experience.config.js';
import { ConsumerSocketModule } from './consumer-socket/consumer-socket.module.js';
import { ConsumersModule } from './consumers/consumers.module.js';
import { HealthModule } from './health/health.module.js';
import { CreateEntityHistory1796300000000 } from './history/migrations/1796300000000-create-entity-history.js';
import { ApiErrorFilter, ERROR_STATUSES } from './http/api-error.filter.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { OUTBOUND_SOCKET_ENTITIES, OUTBOUND_SOCKET_MIGRATIONS } from './outbound-sockets/outbound-sockets.module.js';
import { CreatePublications1763776900000 } from './publishing/migrations/1763776900000-create-publications.js';
import { PublicationEntity } from './publishing/publication.entity.js';
import { LocalEntityBroker } from './publishing/local-entity-broker.js';
import { PublishingModule } from './publishing/publishing.module.js';
import { WebhooksModule } from './webhooks/webhooks.module.js';
import { WebSocketTransportModule } from './websocket-transport/websocket-transport.module.js';

/**
 * The composition root. One way to make a module global, across the repo:
 * `global: true` in the `forRoot` of a module configured once per app (this
 * one, and the database, alerting and socket-registry libs), because only a
 * module that is configured once may be everywhere, and the flag sits beside
 * the configuration that makes it so; feature modules are never global.
 */
@Module({})
export class ExperienceApiModule {
  static forRoot(config: ExperienceConfig): DynamicModule {
    // with REDIS_URL the instances act as one: the cluster's broker, bus and client changes take the in-process ones' places
    const cluster = config.cluster !== undefined;
    const tokenStore = TokenStoreModule.forRoot(
      { tokenIdleTtlMs: config.tokenIdleTtlMs, socketLeaseMs: config.socketLeaseMs, instanceId: config.instanceId },
      cluster ? RedisClientChanges : undefined,
    );
    return {
      module: ExperienceApiModule,
      global: true,
      imports: [
        configModule(loadedNamespace(experienceConfig, config), loadedNamespace(alertingConfig, config.alerts)),
        ClockModule.forRoot(),
        // the triggers (socket-events/): global, for whatever emits or listens
        EventEmitterModule.forRoot(),
        DatabaseModule.forRoot({
          url: config.databaseUrl,
          pgliteDataDir: config.pgliteDataDir,
          applicationName: 'experience-api',
          migrationsTableName: 'schema_migrations',
          entities: [...TOKEN_STORE_ENTITIES, PublicationEntity, ...OUTBOUND_SOCKET_ENTITIES],
          migrations: [...TOKEN_STORE_MIGRATIONS, CreatePublications1763776900000, ...OUTBOUND_SOCKET_MIGRATIONS, CreateEntityHistory1796300000000],
          monitor: { intervalMs: config.healthCheckIntervalMs },
        }),
        tokenStore,
        AlertingModule.forConfig({ app: 'experience-api', instanceId: config.instanceId }),
        ...(cluster ? [ClusterModule.forRoot()] : []),
        SocketRegistryModule.forRoot({ maxBufferedBytes: config.maxBufferedBytes }, cluster ? RedisDeliveryBus : undefined),
        MetricsModule,
        HealthModule,
        ConsumersModule,
        WebSocketTransportModule,
        ConsumerSocketModule.forRoot({ inboundPaths: config.inboundPaths, inboundMaxMessageBytes: config.inboundMaxMessageBytes }),
        PublishingModule.forRoot({ broker: cluster ? RedisEntityBroker : LocalEntityBroker }),
        AdminModule,
        WebhooksModule,
      ],
      providers: [{ provide: ERROR_STATUSES, useValue: API_ERROR_STATUSES }, ApiErrorFilter, { provide: APP_FILTER, useExisting: ApiErrorFilter }, ShutdownLog],
      // the error table, for answers that report an error per item (POST /entities)
      exports: [tokenStore, ApiErrorFilter],
    };
  }
}
