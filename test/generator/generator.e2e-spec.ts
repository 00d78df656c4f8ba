import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * `npm run g:module` in a throw-away copy of the repository (no build here: the check script,
 * `npm run check:generator`, lints, builds, migrates and runs what it generates).
 */
const ROOT = resolve(__dirname, '../..');
const SKIPPED = new Set(['node_modules', 'dist', 'coverage', '.git', 'storage']);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function generate(cwd: string, ...args: string[]): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      'npm',
      ['run', '--silent', 'g:module', '--', ...args],
      { cwd },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Path → content hash of every file of the copy: "nothing written" means this is unchanged. */
function snapshot(dir: string, into = new Map<string, string>(), top = dir): Map<string, string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED.has(entry.name)) snapshot(path, into, top);
    } else if (entry.isFile()) {
      into.set(relative(top, path), createHash('sha1').update(readFileSync(path)).digest('hex'));
    }
  }
  return into;
}

describe('the module generator (npm run g:module)', () => {
  let copy: string;
  const read = (path: string) => readFileSync(join(copy, path), 'utf8');

  beforeAll(() => {
    copy = mkdtempSync(join(tmpdir(), 'girder-generator-spec-'));
    cpSync(ROOT, copy, {
      recursive: true,
      filter: (source) => !SKIPPED.has(relative(ROOT, source).split('/')[0]),
    });
    symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  describe('invoice-lines --with-task', () => {
    let run: Run;
    const lib = 'libs/invoice-lines/src';

    beforeAll(async () => {
      run = await generate(copy, 'invoice-lines', '--with-task');
    });

    it('exits 0 and writes the feature library with its e2e spec', () => {
      expect(run).toMatchObject({ code: 0, stderr: '' });
      for (const file of [
        'index.ts',
        'invoice-lines.module.ts',
        'invoice-lines.controller.ts',
        'invoice-lines.service.ts',
        'invoice-lines.service.spec.ts',
        'invoice-lines.repository.ts',
        'invoice-line.entity.ts',
        'invoice-lines-summary.task.ts',
        'dto/create-invoice-line.dto.ts',
        'dto/update-invoice-line.dto.ts',
        'dto/list-invoice-lines.query.ts',
        'dto/invoice-line.dto.ts',
      ]) {
        expect(existsSync(join(copy, lib, file))).toBe(true);
      }
      expect(existsSync(join(copy, 'test/invoice-lines/invoice-lines.e2e-spec.ts'))).toBe(true);
    });

    it('names things like the rest of the code', () => {
      const entity = read(`${lib}/invoice-line.entity.ts`);
      expect(entity).toContain("@Entity('invoice_lines')");
      expect(entity).toContain('export class InvoiceLine extends BaseEntity');
      expect(read(`${lib}/invoice-lines.repository.ts`)).toContain(
        'export class InvoiceLinesRepository extends TransactionalRepository<InvoiceLine>',
      );
      expect(read(`${lib}/invoice-lines.controller.ts`)).toContain("@Controller('invoice-lines')");
      expect(read(`${lib}/invoice-lines-summary.task.ts`)).toContain(
        "name: 'invoice-lines.summary'",
      );
    });

    it('guards every route with @Permissions and wraps every write in @Transactional()', () => {
      const controller = read(`${lib}/invoice-lines.controller.ts`);
      const routes = controller.match(/@(Get|Post|Patch|Delete)\(/g) ?? [];
      expect(routes).toHaveLength(5);
      expect(controller.match(/@Permissions\(/g)).toHaveLength(routes.length);
      expect(read(`${lib}/invoice-lines.service.ts`).match(/@Transactional\(\)/g)).toHaveLength(3);
    });

    it('writes a timestamped migration, exported from the barrel and listed in ormconfig.ts', () => {
      const [file] = readdirSync(join(copy, lib, 'migrations'));
      const [, timestamp] = /^(\d{13})-CreateInvoiceLines\.ts$/.exec(file) ?? [];
      expect(timestamp).toBeDefined();
      const migration = `CreateInvoiceLines${timestamp}`;
      expect(read(`${lib}/migrations/${file}`)).toContain('CREATE TABLE "invoice_lines"');
      expect(read(`${lib}/index.ts`)).toContain(
        `export { ${migration} } from './migrations/${timestamp}-CreateInvoiceLines';`,
      );
      const ormconfig = read('ormconfig.ts');
      expect(ormconfig).toContain(
        `import { ${migration}, InvoiceLine } from '@girder/invoice-lines';`,
      );
      expect(ormconfig).toMatch(new RegExp(`MIGRATIONS[^;]*${migration},\\n\\];`));
      expect(ormconfig).toMatch(/ENTITIES[^;]*InvoiceLine,?\s*\];/);
    });

    it('registers the library in both apps, nest-cli.json and (through @girder/*) tsconfig', () => {
      expect(read('apps/api/src/api.module.ts')).toContain('    InvoiceLinesModule.forApi(),\n');
      expect(read('apps/worker/src/worker.module.ts')).toContain(
        '    InvoiceLinesModule.forWorker(),\n',
      );
      const cli = JSON.parse(read('nest-cli.json')) as { projects: Record<string, object> };
      expect(cli.projects['invoice-lines']).toEqual({
        type: 'library',
        root: 'libs/invoice-lines',
        entryFile: 'index',
        sourceRoot: 'libs/invoice-lines/src',
      });
      expect(read('tsconfig.json')).toBe(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8'));
    });

    it('refuses to overwrite an existing library: exit 1, nothing written', async () => {
      const before = snapshot(copy);
      const again = await generate(copy, 'invoice-lines');
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('libs/invoice-lines already exists');
      expect(snapshot(copy)).toEqual(before);
    });
  });

  it('without --with-task: no task type and the worker is left alone', async () => {
    const worker = read('apps/worker/src/worker.module.ts');
    expect((await generate(copy, 'categories')).code).toBe(0);
    expect(read('libs/categories/src/category.entity.ts')).toContain('export class Category ');
    expect(existsSync(join(copy, 'libs/categories/src/categories-summary.task.ts'))).toBe(false);
    expect(read('libs/categories/src/categories.module.ts')).not.toContain('forWorker');
    expect(read('apps/api/src/api.module.ts')).toContain('CategoriesModule.forApi()');
    expect(read('apps/worker/src/worker.module.ts')).toBe(worker);
  });

  it.each([
    ['InvoiceLines', 'not kebab-case'],
    ['invoice_lines', 'not kebab-case'],
    ['1st-things', 'not kebab-case'],
    ['config', 'is a core library'],
    ['api', 'is reserved'],
    ['users', 'libs/users already exists'],
  ])('refuses the name %s (%s): exit 1, nothing written', async (name, message) => {
    const before = snapshot(copy);
    const run = await generate(copy, name);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(message);
    expect(snapshot(copy)).toEqual(before);
  });

  it('refuses a missing name or an unknown option', async () => {
    expect((await generate(copy)).stderr).toContain('give exactly one module name');
    expect((await generate(copy, 'things', '--force')).stderr).toContain('unknown option --force');
  });
});
