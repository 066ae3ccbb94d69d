import { DynamicModule, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DatabaseHealth } from './database-health.js';
import { DatabaseMonitor } from './database-monitor.js';
import { DATABASE_MONITOR_OPTIONS, type DatabaseOptions } from './database-options.js';
import { openDataSource } from './open-data-source.js';

/** Provides the app's one DataSource, migrated, watches it for outages when asked to, and closes it when the app stops. */
@Module({})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  static forRoot(options: DatabaseOptions): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      providers: [
        { provide: DataSource, useFactory: () => openDataSource(options) },
        DatabaseHealth,
        ...(options.monitor ? [{ provide: DATABASE_MONITOR_OPTIONS, useValue: options.monitor }, DatabaseMonitor] : []),
      ],
      exports: [DataSource, DatabaseHealth, ...(options.monitor ? [DatabaseMonitor] : [])],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
