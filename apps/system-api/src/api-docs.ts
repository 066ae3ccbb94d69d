import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** Where the Swagger UI is served; the document is at `${API_DOCS_PATH}/openapi.json`. */
export const API_DOCS_PATH = 'docs';

const DESCRIPTION = `The HTTP routes of the push gateway's system-api: health and metrics only (docs/api.md, "system-api"). system-api reads its sources and forwards to experience-api's \`POST /entity\`; it has no API for integrators beyond these routes. Its other answers (an unknown route, for one) use the framework's default JSON body, not experience-api's \`{"error","message"}\` format.`;

/**
 * Serves the OpenAPI document at `/docs/openapi.json` and the Swagger UI at `/docs`, from the
 * app itself (swagger-ui-dist ships with @nestjs/swagger: no CDN), generated from the controllers
 * on the first request.
 */
export function serveApiDocs(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('system-api')
    .setDescription(DESCRIPTION)
    .setVersion('0.1.0')
    .addTag('operations', 'Health and metrics.')
    .build();
  SwaggerModule.setup(API_DOCS_PATH, app, () => SwaggerModule.createDocument(app, config), {
    jsonDocumentUrl: `${API_DOCS_PATH}/openapi.json`,
    raw: ['json'],
    customSiteTitle: 'system-api: API',
  });
}
