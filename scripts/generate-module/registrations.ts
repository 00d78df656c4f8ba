import type { Names } from './names';

/** Text edits of the files that compose the application; each throws when its anchor is gone. */

function insertImport(source: string, line: string, file: string): string {
  const imports = [...source.matchAll(/^import .* from '@girder\/([a-z0-9-]+)';$/gm)];
  if (imports.length === 0) throw new Error(`${file}: no @girder import to sit next to`);
  const module = /'@girder\/([a-z0-9-]+)'/.exec(line)![1];
  const after = imports.find((match) => match[1] > module);
  const last = imports[imports.length - 1];
  const at = after ? after.index : last.index + last[0].length + 1;
  return `${source.slice(0, at)}${line}\n${source.slice(at)}`;
}

/** Appends `item` to the array literal that starts at `anchor` (e.g. `MIGRATIONS: ... = [`). */
function appendToArray(source: string, anchor: RegExp, item: string, file: string): string {
  const start = anchor.exec(source);
  if (!start) throw new Error(`${file}: cannot find ${String(anchor)}`);
  const open = start.index + start[0].length;
  let close = open;
  for (let depth = 1; depth > 0; close++) {
    if (close >= source.length)
      throw new Error(`${file}: unbalanced brackets after ${String(anchor)}`);
    if ('[({'.includes(source[close])) depth++;
    if ('])}'.includes(source[close])) depth--;
  }
  close--;
  const body = source.slice(open, close).trimEnd();
  const separator = body === '' || body.endsWith(',') ? '' : ',';
  return `${source.slice(0, open)}${body}${separator} ${item},${source.slice(close)}`;
}

export function registerInOrmconfig(source: string, n: Names, migrationClass: string): string {
  const file = 'ormconfig.ts';
  let next = insertImport(
    source,
    `import { ${migrationClass}, ${n.Singular} } from '@girder/${n.kebab}';`,
    file,
  );
  next = appendToArray(next, /export const ENTITIES[^=]*= \[/, n.Singular, file);
  return appendToArray(next, /export const MIGRATIONS[^=]*= \[/, migrationClass, file);
}

/** Adds `<Plural>Module.<factory>()` to the root module's `imports`. */
export function registerInAppModule(
  source: string,
  n: Names,
  factory: 'forApi' | 'forWorker',
  file: string,
): string {
  const next = insertImport(
    source,
    `import { ${n.Plural}Module } from '@girder/${n.kebab}';`,
    file,
  );
  return appendToArray(next, /@Module\(\{\s*imports: \[/, `${n.Plural}Module.${factory}()`, file);
}

interface NestCli {
  projects: Record<string, object>;
}

export function registerInNestCli(source: string, n: Names): string {
  const cli = JSON.parse(source) as NestCli;
  cli.projects[n.kebab] = {
    type: 'library',
    root: `libs/${n.kebab}`,
    entryFile: 'index',
    sourceRoot: `libs/${n.kebab}/src`,
  };
  return JSON.stringify(cli, null, 2) + '\n';
}

interface TsConfig {
  compilerOptions: { paths: Record<string, string[]> };
}

/** Nothing to do while tsconfig maps `@girder/*` to `libs/*\/src`; otherwise one alias per lib. */
export function registerInTsconfig(source: string, n: Names): string {
  const tsconfig = JSON.parse(source) as TsConfig;
  const paths = tsconfig.compilerOptions.paths;
  if (paths['@girder/*']?.includes('libs/*/src')) return source;
  paths[`@girder/${n.kebab}`] = [`libs/${n.kebab}/src`];
  return JSON.stringify(tsconfig, null, 2) + '\n';
}
