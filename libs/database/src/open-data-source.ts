import { mkdirSync } from 'node:fs';
import { DataSource } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import type { DatabaseOptions } from './database-options.js';

// Any constant will do; it only has to be the same for every instance of every app.
const MIGRATION_LOCK = 7_262_001;

function pgliteDriver(dataDir: string): unknown {
  if (!dataDir.startsWith('memory://')) mkdirSync(dataDir, { recursive: true });
  return new PGliteDriver({ dataDir }).driver;
}

/**
 * Connects to Postgres (or the embedded PGlite) and applies pending migrations.
 * Migrations run under an advisory lock, so instances that start together do
 * not race to create the same tables.
 */
export async function openDataSource(options: DatabaseOptions): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    ...(options.url
      ? {
          url: options.url.toString(),
          applicationName: options.applicationName,
          // a dead database must fail requests quickly, not hang them
          connectTimeoutMS: 3_000,
          extra: { max: 10, query_timeout: 10_000, idleTimeoutMillis: 30_000 },
        }
      : { driver: pgliteDriver(options.pgliteDataDir) }),
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: options.migrationsTableName,
    synchronize: false,
    logging: false,
  });
  await dataSource.initialize();
  const lock = dataSource.createQueryRunner();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await dataSource.runMigrations({ transaction: 'each' });
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw error;
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await lock.release();
  }
  return dataSource;
}
