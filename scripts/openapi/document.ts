/**
 * Writes the API's OpenAPI document without any server running: the app's module graph is
 * built in Nest's preview mode (no provider is instantiated, so no database or Redis is
 * needed) and documented exactly as `/docs-json` is.
 *
 *   npm run openapi -- [file]        (default dist/openapi.json)
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { buildOpenApiDocument, configureRouting } from '@girder/http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ApiModule } from '../../apps/api/src/api.module';
import { API_HTTP_OPTIONS } from '../../apps/api/src/http-options';

async function main(): Promise<void> {
  const file = resolve(process.argv[2] ?? 'dist/openapi.json');
  const app = await NestFactory.create<NestExpressApplication>(ApiModule, {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  configureRouting(app, API_HTTP_OPTIONS.unversionedRoutes);
  const document = buildOpenApiDocument(app, API_HTTP_OPTIONS.openApi);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  process.stdout.write(
    `OpenAPI document: ${Object.keys(document.paths).length} paths written to ${file}\n`,
  );
  await app.close();
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
