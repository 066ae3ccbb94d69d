import type { DataSource } from 'typeorm';

/**
 * Runs a statement and answers its rows, whatever the statement: TypeORM
 * answers an UPDATE or DELETE with `[rows, count]` rather than the rows a
 * SELECT or INSERT gets, so `RETURNING` reads the same everywhere only
 * through here.
 */
export async function queryRows<T>(dataSource: DataSource, sql: string, parameters?: readonly unknown[]): Promise<T[]> {
  const result: unknown[] = await dataSource.query(sql, parameters as unknown[]);
  // rows are objects, never lists: a list first is the `[rows, count]` form
  return Array.isArray(result[0]) ? (result[0] as T[]) : (result as T[]);
}
