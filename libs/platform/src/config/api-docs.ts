import type { ConfigReader } from './config-reader.js';

/**
 * API_DOCS: whether the app serves its OpenAPI document and Swagger UI at `/docs`. On by default
 * in development, off by default in production (NODE_ENV=production); `true` or `false` decides.
 */
export function readApiDocs(read: ConfigReader, production: boolean): boolean {
  return read.oneOf('API_DOCS', production ? 'false' : 'true', ['true', 'false'] as const) === 'true';
}
