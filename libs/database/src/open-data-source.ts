import { DataSource } from 'typeorm';
import type { DatabaseOptions } from './database-options.js';
import { openEmbeddedDatabase } from './embedded-database.js';

// Any constant will do; it only has to be the same for every instance of every app.
const MIGRATION_LOCK = 7_262_001;

/**
 * Connects to Postgres (or the embedded PGlite) and applies pending migrations.
 * Migrations run under an advisory lock, so instances that start together do
 * not race to create the same tables.
 */
export async function openDataSource(options: DatabaseOptions): Promise<DataSource> {
  const embedded = options.url ? undefined : openEmbeddedDatabase(options.pgliteDataDir);
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
      : { driver: embedded?.driver }),
    entities: options.entities,
    migrations: options.migrations,
    migrationsTableName: options.migrationsTableName,
    synchronize: false,
    logging: false,
  });
  if (embedded) {
    // the embedded database's thread ends, and its folder is free again, once it is closed, by whoever closes it
    const destroy = dataSource.destroy.bind(dataSource);
    dataSource.destroy = () => destroy().finally(() => embedded.close());
  }
  try {
    await dataSource.initialize();
  } catch (error) {
    await embedded?.close();
    throw error;
  }
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
