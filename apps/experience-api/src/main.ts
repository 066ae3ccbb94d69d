import { existsSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { AlertService } from '@app/alerting';
import { ConfigurationError, listeningUrl } from '@app/platform';
import { createExperienceApp } from './bootstrap.js';
import { DEVELOPMENT_ADMIN_TOKEN_FILE, keepDevelopmentAdminToken } from './config/development-admin-token.js';
import { type ExperienceConfig, loadExperienceConfig } from './config/experience.config.js';

function loadConfig(): ExperienceConfig {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return keepDevelopmentAdminToken(loadExperienceConfig(process.env));
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    for (const problem of error.problems) console.error(`experience-api: ${problem}`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createExperienceApp(config);
  await app.listen(config.port, config.host);
  const logger = new Logger('experience-api');
  const alerts = app.get(AlertService);
  // a promise nobody awaited must not take every consumer down with it
  process.on('unhandledRejection', (reason) => {
    const error = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
    logger.error(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? error) : error}`);
    alerts.raise({ kind: 'internal_error', severity: 'error', subject: 'internal errors', details: { where: 'unhandled rejection', error } });
  });
  const bound = listeningUrl(app.getHttpServer().address(), config.tls ? 'https' : 'http');
  const ws = listeningUrl(app.getHttpServer().address(), config.tls ? 'wss' : 'ws');
  logger.log(`listening on ${bound.url}${bound.everyInterface ? ' (every interface)' : ''} (WebSocket: ${ws.url}/ws/publish)`);
  logger.log(config.databaseUrl ? 'database: Postgres (DATABASE_URL)' : `database: embedded PGlite in ${config.pgliteDataDir}`);
  if (config.adminTokenGenerated) {
    // the token itself is never logged: the file is readable by its owner only
    logger.warn(
      `admin API on: no ADMIN_TOKEN set, so development uses the token kept in ${DEVELOPMENT_ADMIN_TOKEN_FILE} (export ADMIN_TOKEN=$(cat ${DEVELOPMENT_ADMIN_TOKEN_FILE}))`,
    );
  } else if (config.adminToken === undefined) {
    logger.log('admin API disabled (NODE_ENV=production and no ADMIN_TOKEN)');
  }
}

main().catch((error: unknown) => {
  console.error(`experience-api failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
