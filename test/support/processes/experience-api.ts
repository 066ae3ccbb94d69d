import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createExperienceApp } from '../../../apps/experience-api/src/bootstrap.js';
import { loadExperienceConfig } from '../../../apps/experience-api/src/config/experience.config.js';
import { databaseUrl } from './services.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface RunningExperienceApi {
  readonly app: INestApplication;
  readonly httpUrl: string;
  readonly wsUrl: string;
  readonly http: ReturnType<typeof request>;
  close(): Promise<void>;
}

/**
 * Starts a real experience-api on a free port, on Postgres when DATABASE_URL
 * is set and on in-memory PGlite otherwise. `env` overrides any variable (PORT: a port chosen
 * beforehand, when another process must know it before the start).
 */
export async function startExperienceApi(env: Record<string, string> = {}): Promise<RunningExperienceApi> {
  const config = loadExperienceConfig({
    PORT: '0',
    ADMIN_TOKEN,
    // an in-memory database of this app's own: two apps started at once must not migrate one database together
    PGLITE_DATA_DIR: `memory://${randomUUID()}`,
    HANDSHAKE_RATE_PER_SECOND: '0',
    REGISTRATION_RATE_PER_MINUTE: '0',
    REGISTRATION_CLIENT_RATE_PER_MINUTE: '0',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...env,
  });
  const app = await createExperienceApp(config, ['error']);
  await app.listen(config.port, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const scheme = config.tls ? 'https' : 'http';
  const httpUrl = `${scheme}://127.0.0.1:${port}`;
  return {
    app,
    httpUrl,
    wsUrl: `${config.tls ? 'wss' : 'ws'}://127.0.0.1:${port}`,
    http: request(httpUrl),
    close: () => app.close(),
  };
}

let counter = 0;

/** A client id no other test (or earlier run against the same database) uses. */
export function uniqueClientId(prefix = 'client'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
}

export interface Consumer {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly token: string;
}

/** Creates a client through the admin API and registers it as a consumer. */
export async function createConsumer(api: RunningExperienceApi, options: { groups?: string[] } = {}): Promise<Consumer> {
  const clientId = uniqueClientId();
  const created = await api.http
    .post('/admin/clients')
    .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
    .send({ client_id: clientId, ...(options.groups ? { groups: options.groups } : {}) })
    .expect(201);
  const registered = await api.http.post('/consumers').set('client_id', clientId).set('client_secret', created.body.client_secret).expect(201);
  return { clientId, clientSecret: created.body.client_secret, token: registered.body.token };
}
