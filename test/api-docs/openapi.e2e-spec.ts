import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { createSystemApp } from '../../apps/system-api/src/bootstrap.js';
import { loadSystemConfig } from '../../apps/system-api/src/config/system.config.js';
import { startExperienceApi, type RunningExperienceApi } from '../support/processes/experience-api.js';
import { SystemApiProcess } from '../support/processes/system-api.js';

/** The methods an OpenAPI document can describe and Nest documents for a route that takes any method (`@All`). */
const ANY_METHOD = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'];
/** Express registers an `all` route under every method it knows: far more than any route names. */
const ALL_THRESHOLD = 20;

interface Route {
  readonly path: string;
  readonly methods: readonly string[];
}

interface OpenApiDocument {
  readonly paths: Record<string, Record<string, { responses?: Record<string, unknown> }>>;
}

/** Every route the running app registered with Express, in OpenAPI's path form, but the documentation's own. */
function registeredRoutes(app: INestApplication): Route[] {
  const express = app.getHttpAdapter().getInstance() as { router: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } };
  const routes = express.router.stack
    .map((layer) => layer.route)
    .filter((route) => route !== undefined && route.path !== '/docs' && !route.path.startsWith('/docs/'))
    .map((route) => {
      const methods = Object.keys(route!.methods).filter((method) => route!.methods[method]);
      return { path: route!.path.replace(/:(\w+)/g, '{$1}'), methods: methods.length > ALL_THRESHOLD ? ANY_METHOD : methods };
    });
  expect(routes.length).toBeGreaterThan(0);
  return routes;
}

/** Every operation of the document, as `METHOD path`. */
function operations(document: OpenApiDocument): string[] {
  return Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
}

/** The document covers every route with its methods, documents nothing else, and gives every operation a response. */
function expectDocumentCovers(document: OpenApiDocument, routes: readonly Route[]): void {
  const registered = routes.flatMap((route) => route.methods.map((method) => `${method.toUpperCase()} ${route.path}`));
  const documented = operations(document);
  expect(documented).toEqual(expect.arrayContaining(registered));
  const anyMethod = new Set(routes.filter((route) => route.methods === ANY_METHOD).map((route) => route.path));
  // Nest also documents SEARCH for a route of any method, which Express answers too
  expect(documented.filter((operation) => !registered.includes(operation) && !anyMethod.has(operation.split(' ')[1]))).toEqual([]);
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      expect({ operation: `${method.toUpperCase()} ${path}`, responses: Object.keys(operation.responses ?? {}).length > 0 }).toEqual({
        operation: `${method.toUpperCase()} ${path}`,
        responses: true,
      });
    }
  }
}

async function expectSwaggerUi(baseUrl: string): Promise<void> {
  const page = await fetch(`${baseUrl}/docs`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  const html = await page.text();
  expect(html).toContain('swagger-ui');
  // the UI comes from the app itself, never from a CDN
  expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
  const bundle = await fetch(`${baseUrl}/docs/swagger-ui-bundle.js`);
  expect(bundle.status).toBe(200);
  expect(bundle.headers.get('content-type')).toMatch(/javascript/);
}

async function expectNoDocs(baseUrl: string): Promise<void> {
  for (const path of ['/docs', '/docs/openapi.json']) expect((await fetch(`${baseUrl}${path}`)).status).toBe(404);
}

describe('OpenAPI document of experience-api', () => {
  let api: RunningExperienceApi;

  beforeAll(async () => {
    api = await startExperienceApi();
  });
  afterAll(() => api?.close());

  it('documents every registered route with its methods, and a response for every operation', async () => {
    const answer = await api.http.get('/docs/openapi.json').expect(200).expect('Content-Type', /json/);
    const document = answer.body as OpenApiDocument & { openapi: string; components: { securitySchemes: Record<string, unknown> } };

    expect(document.openapi).toMatch(/^3\./);
    expectDocumentCovers(document, registeredRoutes(api.app));
    expect(Object.keys(document.components.securitySchemes).sort()).toEqual(['admin_token', 'client_basic', 'client_id', 'client_secret', 'consumer_token']);
  });

  it('documents the error body of every error answer', async () => {
    const document = (await api.http.get('/docs/openapi.json').expect(200)).body as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }> }>>;
    };
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          // the two bodies of /health's 503 are its own, not an error
          if (Number(status) < 400 || path === '/health') continue;
          expect({ at: `${method} ${path} ${status}`, schema: response.content?.['application/json']?.schema.$ref }).toEqual({
            at: `${method} ${path} ${status}`,
            schema: expect.stringMatching(/^#\/components\/schemas\/(ApiErrorAnswer|HistoryErrorAnswer)$/),
          });
        }
      }
    }
  });

  it('serves the Swagger UI from the app in development', async () => {
    await expectSwaggerUi(api.httpUrl);
  });

  it.each([
    ['API_DOCS=false', { API_DOCS: 'false' }],
    ['production', { NODE_ENV: 'production' }],
  ])('answers 404 at /docs with %s', async (_, env) => {
    const other = await startExperienceApi(env);
    try {
      await expectNoDocs(other.httpUrl);
      // the error format of every other unknown route
      expect((await other.http.get('/docs').expect(404)).body).toMatchObject({ error: 'not_found' });
    } finally {
      await other.close();
    }
  });

  it('serves the documents in production when API_DOCS=true', async () => {
    const other = await startExperienceApi({ NODE_ENV: 'production', API_DOCS: 'true' });
    try {
      await other.http.get('/docs/openapi.json').expect(200);
    } finally {
      await other.close();
    }
  });
});

describe('OpenAPI document of system-api', () => {
  let workDir: string;

  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'system-api-docs-'));
    writeFileSync(join(workDir, 'empty-sources.yaml'), '[]');
  });
  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  /** system-api built in this process, whose router can be read. */
  async function startInProcess(env: Record<string, string> = {}): Promise<{ app: INestApplication; url: string }> {
    const config = loadSystemConfig({
      PORT: '0',
      PGLITE_DATA_DIR: 'memory://',
      SOURCES_FILE: join(workDir, 'empty-sources.yaml'),
      // nothing to forward: never called
      EXPERIENCE_API_URL: 'http://127.0.0.1:9',
      ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
      ...env,
    });
    const app = await createSystemApp(config, ['error']);
    await app.listen(0, '127.0.0.1');
    return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}` };
  }

  it('documents every registered route with its methods, and a response for every operation', async () => {
    const { app, url } = await startInProcess();
    try {
      const answer = await fetch(`${url}/docs/openapi.json`);
      expect(answer.status).toBe(200);
      expectDocumentCovers((await answer.json()) as OpenApiDocument, registeredRoutes(app));
    } finally {
      await app.close();
    }
  });

  it('answers 404 at /docs with API_DOCS=false', async () => {
    const { app, url } = await startInProcess({ API_DOCS: 'false' });
    try {
      await expectNoDocs(url);
    } finally {
      await app.close();
    }
  });

  it('serves the Swagger UI from the built process in development, and nothing at /docs in production', async () => {
    const experienceApi = await startExperienceApi();
    const development = new SystemApiProcess({ sources: '[]', workDir: mkdtempSync(join(workDir, 'dev-')), experienceApiUrl: experienceApi.httpUrl });
    const production = new SystemApiProcess({
      sources: '[]',
      workDir: mkdtempSync(join(workDir, 'prod-')),
      experienceApiUrl: experienceApi.httpUrl,
      env: { NODE_ENV: 'production' },
    });
    try {
      await Promise.all([development.start(), production.start()]);
      await expectSwaggerUi(await development.url);
      const document = (await (await fetch(`${await development.url}/docs/openapi.json`)).json()) as OpenApiDocument;
      expect(operations(document).sort()).toEqual(['GET /health', 'GET /metrics']);
      await expectNoDocs(await production.url);
    } finally {
      await Promise.all([development.stop(), production.stop()]);
      await experienceApi.close();
    }
  });
});
