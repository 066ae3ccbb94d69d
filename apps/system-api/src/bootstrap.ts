import type { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppLogger } from '@app/platform';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { serveApiDocs } from './api-docs.js';
import type { SystemConfig } from './config/system.config.js';
import { SystemApiModule } from './system-api.module.js';

/**
 * Builds system-api, ready to `listen`, with the sources of SOURCES_FILE (validated with the rest
 * of the configuration), and the OpenAPI document and Swagger UI at `/docs` when API_DOCS is on.
 */
export async function createSystemApp(config: SystemConfig, logLevels?: LogLevel[]): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(SystemApiModule.forRoot(config), {
    bodyParser: false,
    httpsOptions: config.tls ? { cert: config.tls.cert, key: config.tls.key } : undefined,
    logger: appLogger(config, logLevels),
  });
  app.disable('x-powered-by');
  if (config.apiDocs) serveApiDocs(app);
  // a stop that ran its shutdown hooks to the end exits 0 (1 if one of them threw)
  app.enableShutdownHooks(undefined, { useProcessExit: true });
  return app;
}

/** The app's logger after LOG_LEVEL and LOG_FORMAT; `logLevels`, when given, replaces LOG_LEVEL (tests keep their output quiet). */
function appLogger(config: SystemConfig, logLevels?: LogLevel[]): AppLogger {
  const logger = new AppLogger('system-api', config.logging);
  if (logLevels) logger.setLogLevels(logLevels);
  return logger;
}
