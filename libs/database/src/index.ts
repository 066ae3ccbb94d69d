export type { DatabaseOptions } from './database-options.js';
export { DatabaseHealth, type DatabaseStatus } from './database-health.js';
export { DatabaseModule } from './database.module.js';
export { DatabaseUnavailableError, isDatabaseUnavailable } from './database-unavailable.error.js';
export { openDataSource } from './open-data-source.js';
