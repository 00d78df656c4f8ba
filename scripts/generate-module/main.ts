/**
 * `npm run g:module -- <name> [--with-task] [--singular <name>]`: a feature library in
 * libs/<name>, its e2e spec in test/<name>, and its registrations (ormconfig.ts, the apps'
 * root modules, nest-cli.json). Everything is rendered and formatted in memory first; nothing
 * is written unless all of it succeeded. See docs/adding-a-module.md.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { nameProblem, namesFor, NAME_PATTERN, type Names } from './names';
import {
  registerInAppModule,
  registerInNestCli,
  registerInOrmconfig,
  registerInTsconfig,
} from './registrations';
import { controller } from './templates/controller';
import { createDto, dtoIndex, listQuery, publicDto, updateDto } from './templates/dto';
import { e2eSpec } from './templates/e2e-spec';
import { entity, migration, repository } from './templates/entity';
import { barrel, featureModule, task } from './templates/module';
import { service, serviceSpec } from './templates/service';

const USAGE =
  'usage: npm run g:module -- <kebab-case-plural-name> [--with-task] [--singular <name>]';

export interface Options {
  name: string;
  withTask: boolean;
  singular?: string;
}

class UsageError extends Error {}

export function parseArgs(args: string[]): Options {
  const positional: string[] = [];
  let withTask = false;
  let singular: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--with-task') withTask = true;
    else if (args[i] === '--singular') singular = args[++i];
    else if (args[i].startsWith('-')) throw new UsageError(`unknown option ${args[i]}`);
    else positional.push(args[i]);
  }
  if (positional.length !== 1) throw new UsageError('give exactly one module name');
  if (singular !== undefined && !NAME_PATTERN.test(singular)) {
    throw new UsageError(`--singular "${singular}" is not kebab-case`);
  }
  return { name: positional[0], withTask, singular };
}

/** Every file the module consists of, by path relative to the repository root. */
function render(n: Names, withTask: boolean, timestamp: number): Map<string, string> {
  const lib = `libs/${n.kebab}/src`;
  const migrationClass = `Create${n.Plural}${timestamp}`;
  const migrationFile = `${timestamp}-Create${n.Plural}`;
  const files = new Map<string, string>([
    [`${lib}/index.ts`, barrel(n, migrationClass, migrationFile, withTask)],
    [`${lib}/${n.kebab}.module.ts`, featureModule(n, withTask)],
    [`${lib}/${n.kebab}.controller.ts`, controller(n)],
    [`${lib}/${n.kebab}.service.ts`, service(n)],
    [`${lib}/${n.kebab}.service.spec.ts`, serviceSpec(n)],
    [`${lib}/${n.kebab}.repository.ts`, repository(n)],
    [`${lib}/${n.singularKebab}.entity.ts`, entity(n)],
    [`${lib}/migrations/${migrationFile}.ts`, migration(n, timestamp)],
    [`${lib}/dto/index.ts`, dtoIndex(n)],
    [`${lib}/dto/create-${n.singularKebab}.dto.ts`, createDto(n)],
    [`${lib}/dto/update-${n.singularKebab}.dto.ts`, updateDto(n)],
    [`${lib}/dto/list-${n.kebab}.query.ts`, listQuery(n)],
    [`${lib}/dto/${n.singularKebab}.dto.ts`, publicDto(n)],
    [`test/${n.kebab}/${n.kebab}.e2e-spec.ts`, e2eSpec(n, withTask)],
  ]);
  if (withTask) files.set(`${lib}/${n.kebab}-summary.task.ts`, task(n));
  return files;
}

/** The registrations: the same paths with their new content. */
function register(
  root: string,
  n: Names,
  withTask: boolean,
  timestamp: number,
): Map<string, string> {
  const read = (path: string) => readFileSync(join(root, path), 'utf8');
  const edits = new Map<string, string>([
    ['ormconfig.ts', registerInOrmconfig(read('ormconfig.ts'), n, `Create${n.Plural}${timestamp}`)],
    [
      'apps/api/src/api.module.ts',
      registerInAppModule(read('apps/api/src/api.module.ts'), n, 'forApi', 'api.module.ts'),
    ],
    ['nest-cli.json', registerInNestCli(read('nest-cli.json'), n)],
    ['tsconfig.json', registerInTsconfig(read('tsconfig.json'), n)],
  ]);
  if (withTask) {
    const worker = 'apps/worker/src/worker.module.ts';
    edits.set(worker, registerInAppModule(read(worker), n, 'forWorker', 'worker.module.ts'));
  }
  return edits;
}

export async function generate(root: string, options: Options): Promise<string[]> {
  const coreLibs = JSON.parse(readFileSync(join(root, 'libs/core-libs.json'), 'utf8')) as string[];
  const problem = nameProblem(options.name, coreLibs);
  if (problem) throw new UsageError(problem);
  const n = namesFor(options.name, options.singular);
  for (const folder of [`libs/${n.kebab}`, `test/${n.kebab}`]) {
    if (existsSync(join(root, folder))) {
      throw new UsageError(`${folder} already exists: refusing to overwrite it (nothing written)`);
    }
  }
  const timestamp = Date.now();
  const files = new Map([
    ...render(n, options.withTask, timestamp),
    ...register(root, n, options.withTask, timestamp),
  ]);
  const formatted = new Map<string, string>();
  for (const [path, content] of files) {
    const filepath = join(root, path);
    const text = await format(content, { ...(await resolveConfig(filepath)), filepath });
    if (!existsSync(filepath) || readFileSync(filepath, 'utf8') !== text) formatted.set(path, text);
  }
  for (const [path, content] of formatted) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return [...formatted.keys()];
}

async function main(): Promise<void> {
  try {
    const options = parseArgs(process.argv.slice(2));
    const written = await generate(process.cwd(), options);
    console.log(`Wrote or updated:\n${written.map((path) => `  ${path}`).join('\n')}`);
    console.log(`Next: docs/adding-a-module.md (fields, migration, permissions).`);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`g:module: ${error.message}\n${USAGE}`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
