import { existsSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { AlertService } from '@app/alerting';
import { ConfigurationError, listeningUrl } from '@app/platform';
import { createSystemApp } from './bootstrap.js';
import { loadSystemConfig, type SystemConfig } from './config/system.config.js';

function exitWith(problems: readonly string[]): never {
  for (const problem of problems) console.error(`system-api: ${problem}`);
  process.exit(1);
}

function loadConfig(): SystemConfig {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return loadSystemConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigurationError) exitWith(error.problems);
    throw error;
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createSystemApp(config);
  await app.listen(config.port, config.host);
  const logger = new Logger('system-api');
  const alerts = app.get(AlertService);
  process.on('unhandledRejection', (reason) => {
    const error = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
    logger.error(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? error) : error}`);
    alerts.raise({ kind: 'internal_error', severity: 'error', subject: 'internal errors', details: { where: 'unhandled rejection', error } });
  });
  const bound = listeningUrl(app.getHttpServer().address(), config.tls ? 'https' : 'http');
  logger.log(`listening on ${bound.url}${bound.everyInterface ? ' (every interface)' : ''}; forwarding to ${config.experienceApiUrl.origin}/entity`);
  logger.log(config.databaseUrl ? 'database: Postgres (DATABASE_URL)' : `database: embedded PGlite in ${config.pgliteDataDir}`);
  logger.log(config.sourcesFile ? `sources: ${config.sourcesFile}` : 'sources: none (set SOURCES_FILE or create ./sources.yaml)');
}

main().catch((error: unknown) => {
  console.error(`system-api failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
