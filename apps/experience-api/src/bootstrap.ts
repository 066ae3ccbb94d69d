import type { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppLogger } from '@app/platform';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { ExperienceConfig } from './config/experience.config.js';
import { ExperienceApiModule } from './experience-api.module.js';
import { ConnectionShedding } from './websocket-transport/connection-shedding.js';
import { GuardedWsAdapter } from './websocket-transport/guarded-ws.adapter.js';
import { serveApiDocs } from './api-docs.js';
import { serveConsole } from './console/serve-console.js';
import { ApiBodyPipe } from './http/api-body.pipe.js';
import { answerClientErrors } from './http/client-errors.js';
import { type BodyLimit, jsonBody } from './http/json-body.js';

/** The largest entity `POST /entity` accepts. */
const MAX_ENTITY_BODY_BYTES = 1_048_576;
/** The most entities `POST /entities` takes at once, in bytes. */
const MAX_ENTITIES_BODY_BYTES = 8 * 1_048_576;
/** Registration bodies name a few groups at most. */
const MAX_REGISTRATION_BODY_BYTES = 8_192;
/** Every other body: admin requests. */
const MAX_BODY_BYTES = 65_536;

const BODY_LIMITS: readonly BodyLimit[] = [
  { path: '/entity', bytes: MAX_ENTITY_BODY_BYTES },
  { path: '/entities', bytes: MAX_ENTITIES_BODY_BYTES },
  { path: '/consumers', bytes: MAX_REGISTRATION_BODY_BYTES },
];

/**
 * Builds experience-api, ready to `listen`: HTTPS and WSS on one port when TLS
 * files are configured, the guarded WebSocket adapter, JSON bodies with a
 * limit per route, one error format for every answer, the OpenAPI document and Swagger UI
 * at `/docs` when API_DOCS is on, and the operator console at `/console` with the admin API.
 */
export async function createExperienceApp(config: ExperienceConfig, logLevels?: LogLevel[]): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(ExperienceApiModule.forRoot(config), {
    bodyParser: false,
    httpsOptions: config.tls ? { cert: config.tls.cert, key: config.tls.key } : undefined,
    logger: appLogger(config, logLevels),
  });
  app.disable('x-powered-by');
  app.use(jsonBody(BODY_LIMITS, MAX_BODY_BYTES));
  app.useGlobalPipes(new ApiBodyPipe());
  answerClientErrors(app.getHttpServer());
  app.get(ConnectionShedding).install(app.getHttpServer(), config.tls !== undefined);
  app.useWebSocketAdapter(new GuardedWsAdapter(app, { maxPayload: config.maxInboundFrameBytes, perMessageDeflate: false }));
  if (config.apiDocs) serveApiDocs(app);
  // the console is the admin API's page: where there is no admin API (production without ADMIN_TOKEN), there is no console
  if (config.adminToken !== undefined) serveConsole(app);
  // a stop that ran its shutdown hooks to the end exits 0 (1 if one of them threw)
  app.enableShutdownHooks(undefined, { useProcessExit: true });
  return app;
}

/** The app's logger after LOG_LEVEL and LOG_FORMAT; `logLevels`, when given, replaces LOG_LEVEL (tests keep their output quiet). */
function appLogger(config: ExperienceConfig, logLevels?: LogLevel[]): AppLogger {
  const logger = new AppLogger('experience-api', config.logging);
  if (logLevels) logger.setLogLevels(logLevels);
  return logger;
}
