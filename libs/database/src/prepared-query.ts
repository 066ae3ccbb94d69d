import type { DataSource } from 'typeorm';

interface PgPool {
  query(config: { name: string; text: string; values: readonly unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Runs a statement that Postgres keeps prepared on each pooled connection
 * under `name`: it is parsed and planned once per connection instead of on
 * every call, which is most of the cost of a short statement on a hot path
 * (`POST /entity` records every entity). On PGlite (one session, in a
 * worker thread of this process) it is a plain query. Errors are the
 * driver's own, as `isDatabaseUnavailable` expects.
 */
export async function queryPrepared<T>(dataSource: DataSource, name: string, text: string, values: readonly unknown[]): Promise<T[]> {
  const pool =
    dataSource.options.type === 'postgres' && dataSource.options.driver === undefined ? (dataSource.driver as { master?: PgPool }).master : undefined;
  if (pool && typeof pool.query === 'function') return (await pool.query({ name, text, values })).rows as T[];
  return dataSource.query(text, values as unknown[]);
}
