/**
 * Generates the typed client's types, sdk/girder-api.d.ts, from the API's OpenAPI document
 * with openapi-typescript's programmatic API (the types openapi-fetch's `createClient<paths>`
 * takes). `npm run sdk` writes the document first, then runs this:
 *
 *   npm run sdk                                   (dist/openapi.json → sdk/girder-api.d.ts)
 *   ts-node --transpile-only scripts/sdk/generate.ts <document.json> [<output> | -]
 *
 * Not the openapi-typescript CLI, so that the options below are the only input besides the
 * document: the CLI would also pick up the repository's redocly.yaml (a lint ruleset for
 * `npm run lint:api`, not a generator setting). test/sdk/typed-client.e2e-spec.ts runs this
 * same script on the live /docs-json and fails when the checked-in file differs.
 */
import openapiTS, { astToString, COMMENT_HEADER, type OpenAPITSOptions } from 'openapi-typescript';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export const SDK_TYPES_FILE = 'sdk/girder-api.d.ts';

/**
 * Every option that changes the output, spelled out rather than left to the library's
 * defaults. Output order follows the document (which Nest builds deterministically from the
 * code), so the file reads like Swagger UI.
 */
export const SDK_TYPES_OPTIONS = {
  alphabetize: false,
  additionalProperties: false,
  arrayLength: false,
  // A schema `default` makes a property required only where the server fills it in; off, so
  // that a request DTO with a default never forces callers to send the field.
  defaultNonNullable: false,
  emptyObjectsUnknown: false,
  enum: false,
  excludeDeprecated: false,
  exportType: false,
  immutable: false,
  pathParamsAsTypes: false,
  propertiesRequiredByDefault: false,
  rootTypes: false,
  silent: true,
} satisfies OpenAPITSOptions;

/** The full text of sdk/girder-api.d.ts for an OpenAPI document (JSON text). */
export async function generateSdkTypes(documentJson: string): Promise<string> {
  return `${COMMENT_HEADER}${astToString(await openapiTS(documentJson.trim(), SDK_TYPES_OPTIONS))}`;
}

async function main(): Promise<void> {
  const input = resolve(process.argv[2] ?? 'dist/openapi.json');
  const output = process.argv[3] ?? SDK_TYPES_FILE;
  const types = await generateSdkTypes(readFileSync(input, 'utf8'));
  if (output === '-') {
    process.stdout.write(types);
    return;
  }
  mkdirSync(dirname(resolve(output)), { recursive: true });
  writeFileSync(resolve(output), types);
  process.stdout.write(`SDK types: ${input} → ${output}\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
}
