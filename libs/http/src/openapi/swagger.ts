import type { INestApplication } from '@nestjs/common';
import { SwaggerModule } from '@nestjs/swagger';
import { buildOpenApiDocument, type OpenApiOptions } from './openapi-document';

/** Swagger UI at `/docs`, the OpenAPI 3 document at `/docs-json`. */
export function setupSwagger(app: INestApplication, options: OpenApiOptions = {}): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app, options), {
    jsonDocumentUrl: 'docs-json',
    yamlDocumentUrl: 'docs-yaml',
    swaggerOptions: { persistAuthorization: true },
  });
}
