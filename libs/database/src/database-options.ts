import type { MixedList } from 'typeorm';

export interface DatabaseOptions {
  /** `postgres://…`; when absent the embedded PGlite database is used. */
  readonly url?: URL;
  /** Where PGlite keeps its files when `url` is absent; `memory://` keeps nothing. */
  readonly pgliteDataDir: string;
  /** Shown in `pg_stat_activity`, so operators can tell the apps apart. */
  readonly applicationName: string;
  /** Each app keeps its own record of applied migrations, so that two apps may share a database. */
  readonly migrationsTableName: string;
  // TypeORM takes classes here, typed by it as plain functions
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly entities: MixedList<Function>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly migrations: MixedList<Function>;
  /** Set: the database is probed and its outages alerted (an app); unset: not (a spec). */
  readonly monitor?: DatabaseMonitorOptions;
}

export const DATABASE_MONITOR_OPTIONS = Symbol('DATABASE_MONITOR_OPTIONS');

/** How the database is watched for outages (DatabaseMonitor); needs AlertingModule and the CLOCK. */
export interface DatabaseMonitorOptions {
  /** How often it is probed. */
  readonly intervalMs: number;
}
