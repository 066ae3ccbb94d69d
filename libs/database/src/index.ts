export type { DatabaseMonitorOptions, DatabaseOptions } from './database-options.js';
export { DatabaseMonitor } from './database-monitor.js';
export { DatabaseHealth, type DatabaseStatus } from './database-health.js';
export { DatabaseModule } from './database.module.js';
export { isDatabaseUnavailable } from './database-unavailable.js';
export { openDataSource } from './open-data-source.js';
export { queryPrepared } from './prepared-query.js';
export { queryRows } from './query-rows.js';
export { DataFolderLockedError, type DataFolderLock, lockDataFolder } from './data-folder-lock.js';
