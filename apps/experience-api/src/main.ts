import { existsSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { AlertService } from '@app/alerting';
import { ConfigurationError } from '@app/platform';
import { createExperienceApp } from './bootstrap.js';
import { type ExperienceConfig, loadExperienceConfig } from './config/experience.config.js';

function loadConfig(): ExperienceConfig {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return loadExperienceConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    for (const problem of error.problems) console.error(`experience-api: ${problem}`);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const app = await createExperienceApp(config);
  await app.listen(config.port);
  const logger = new Logger('experience-api');
  const alerts = app.get(AlertService);
  // a promise nobody awaited must not take every consumer down with it
  process.on('unhandledRejection', (reason) => {
    const error = reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason);
    logger.error(`unhandled rejection: ${reason instanceof Error ? (reason.stack ?? error) : error}`);
    alerts.raise({ kind: 'internal_error', severity: 'error', subject: 'internal errors', details: { where: 'unhandled rejection', error } });
  });
  const scheme = config.tls ? 'https' : 'http';
  const base = `${scheme}://127.0.0.1:${config.port}`;
  logger.log(`listening on ${base} (WebSocket: ${config.tls ? 'wss' : 'ws'}://127.0.0.1:${config.port}/ws/publish)`);
  logger.log(config.databaseUrl ? 'database: Postgres (DATABASE_URL)' : `database: embedded PGlite in ${config.pgliteDataDir}`);
  if (config.adminTokenGenerated) {
    logger.warn(`no ADMIN_TOKEN set: generated one for this development run: ${config.adminToken}`);
    logger.log(
      `create a first client, granted the group "orders", with:\n  curl -s -X POST ${base}/admin/clients -H "Authorization: Bearer ${config.adminToken}" ` +
        `-H "Content-Type: application/json" -d '{"client_id":"acme","groups":["orders"]}'`,
    );
  } else if (config.adminToken === undefined) {
    logger.log('admin API disabled (NODE_ENV=production and no ADMIN_TOKEN)');
  }
}

main().catch((error: unknown) => {
  console.error(`experience-api failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
