import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { ADMIN_TOKEN_SCHEME, ApiErrorAnswer, CLIENT_BASIC_SCHEME, CLIENT_ID_SCHEME, CLIENT_SECRET_SCHEME, CONSUMER_TOKEN_SCHEME } from './http/api-docs.js';

/** Where the Swagger UI is served; the document is at `${API_DOCS_PATH}/openapi.json`. */
export const API_DOCS_PATH = 'docs';

const DESCRIPTION = `The HTTP API of the push gateway's experience-api: the admin API for clients and sockets, consumer registration, publishing, reading the entity history, health and metrics (docs/api.md).

Every error answer has the JSON body \`{"error": <code>, "message": <text>}\`. Requests that Node's HTTP parser refuses before any route sees them get the same format: \`400\` (malformed HTTP request), \`408\` (the request took too long to arrive), \`413\` (chunk extensions too large) and \`431\` (request headers too large), each with \`Connection: close\`. An unknown route, or a known route asked with another method, is \`404 not_found\`.

The consumer WebSocket \`/ws/publish\` is not an HTTP route: its protocol is described separately (AsyncAPI) and in docs/protocol.md; here only the answer to a plain HTTP request is.`;

/** The OpenAPI document of experience-api, generated from its controllers and DTOs. */
function document(app: INestApplication) {
  const config = new DocumentBuilder()
    .setTitle('experience-api')
    .setDescription(DESCRIPTION)
    .setVersion('0.1.0')
    .addTag('admin: clients', 'Operators create and manage clients: the parties whose consumers connect.')
    .addTag('admin: sockets', 'The connector’s socket operations, on whichever instance holds each socket.')
    .addTag('admin: operations', 'What the operator console (`/console`) reads: recent refusals and alerts, counters, system-api’s health.')
    .addTag('admin: outbound sockets', 'Connections this gateway opens to upstream feeds (docs/outbound-sockets.md).')
    .addTag('consumers', 'Consumer registration: client credentials exchanged for a consumer token.')
    .addTag('publishing', 'The back end publishes entities to consumers.')
    .addTag('history', 'The entity history, read over HTTP with a consumer’s token.')
    .addTag('operations', 'Health and metrics.')
    .addTag('websocket', 'The consumer WebSocket: not an HTTP route.')
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'opaque', description: '`Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time.' },
      ADMIN_TOKEN_SCHEME,
    )
    .addApiKey({ type: 'apiKey', in: 'header', name: 'client_id', description: 'The client’s id.' }, CLIENT_ID_SCHEME)
    .addApiKey({ type: 'apiKey', in: 'header', name: 'client_secret', description: 'The client’s secret.' }, CLIENT_SECRET_SCHEME)
    .addBasicAuth(
      { type: 'http', scheme: 'basic', description: '`Authorization: Basic base64(<client_id>:<client_secret>)`, split at the first colon.' },
      CLIENT_BASIC_SCHEME,
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'opaque', description: 'A consumer token from `POST /consumers` (43 URL-safe characters).' },
      CONSUMER_TOKEN_SCHEME,
    )
    .addGlobalResponse({
      status: 500,
      description: 'An unexpected fault (message `internal error`); DevOps are alerted.',
      type: ApiErrorAnswer,
    })
    .build();
  return SwaggerModule.createDocument(app, config, { extraModels: [ApiErrorAnswer] });
}

/**
 * Serves the OpenAPI document at `/docs/openapi.json` and the Swagger UI at `/docs`, from the
 * app itself (swagger-ui-dist ships with @nestjs/swagger: no CDN). The document is built on the
 * first request, from the routes the app registered.
 */
export function serveApiDocs(app: INestApplication): void {
  SwaggerModule.setup(API_DOCS_PATH, app, () => document(app), {
    jsonDocumentUrl: `${API_DOCS_PATH}/openapi.json`,
    raw: ['json'],
    customSiteTitle: 'experience-api: API',
  });
}
