import type { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { ExperienceConfig } from './config/experience.config.js';
import { ExperienceApiModule } from './experience-api.module.js';
import { ConnectionShedding } from './gateway/connection-shedding.js';
import { GuardedWsAdapter } from './gateway/guarded-ws.adapter.js';
import { answerClientErrors } from './http/client-errors.js';
import { jsonBody } from './http/json-body.js';
import { apiValidationPipe } from './http/validation.pipe.js';

/** The largest request body accepted, `POST /entity` included. */
export const MAX_BODY_BYTES = 1_048_576;

/**
 * Builds experience-api, ready to `listen`: HTTPS and WSS on one port when TLS
 * files are configured, the guarded WebSocket adapter, JSON bodies, and one
 * error format for every answer.
 */
export async function createExperienceApp(config: ExperienceConfig, logLevels?: LogLevel[]): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(ExperienceApiModule.forRoot(config), {
    bodyParser: false,
    httpsOptions: config.tls ? { cert: config.tls.cert, key: config.tls.key } : undefined,
    logger: logLevels ?? ['log', 'warn', 'error'],
  });
  app.disable('x-powered-by');
  app.use(jsonBody(MAX_BODY_BYTES));
  app.useGlobalPipes(apiValidationPipe());
  answerClientErrors(app.getHttpServer());
  app.get(ConnectionShedding).install(app.getHttpServer(), config.tls !== undefined);
  app.useWebSocketAdapter(new GuardedWsAdapter(app, { maxPayload: config.maxInboundFrameBytes, perMessageDeflate: false }));
  app.enableShutdownHooks();
  return app;
}
