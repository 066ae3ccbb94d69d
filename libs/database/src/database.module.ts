import { DynamicModule, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { DatabaseHealth } from './database-health.js';
import type { DatabaseOptions } from './database-options.js';
import { openDataSource } from './open-data-source.js';

/** Provides the app's one DataSource, migrated, and closes it when the app stops. */
@Module({})
export class DatabaseModule implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  static forRoot(options: DatabaseOptions): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      providers: [{ provide: DataSource, useFactory: () => openDataSource(options) }, DatabaseHealth],
      exports: [DataSource, DatabaseHealth],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
