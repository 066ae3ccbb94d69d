import { type DynamicModule, Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module.js';
import { ClusterMonitor } from './cluster-monitor.js';
import { RedisConnection } from './redis-connection.js';

/**
 * Several instances acting as one over Redis (REDIS_URL): this module holds
 * the connection and its monitor; the composition root puts the cluster's
 * broker, bus and client changes in the places of the in-process ones.
 */
@Module({})
export class ClusterModule {
  static forRoot(): DynamicModule {
    return { module: ClusterModule, global: true, imports: [MetricsModule], providers: [RedisConnection, ClusterMonitor], exports: [RedisConnection] };
  }
}
