import type { Names } from '../names';

export const service = (n: Names): string => `import { Injectable } from '@nestjs/common';
import { Transactional } from '@girder/database';
import { ProblemException } from '@girder/errors';
import { decodeCursor, toPage, type Page } from '@girder/http';
import type { Create${n.Singular}Dto } from './dto/create-${n.singularKebab}.dto';
import type { List${n.Plural}Query } from './dto/list-${n.kebab}.query';
import type { Update${n.Singular}Dto } from './dto/update-${n.singularKebab}.dto';
import { ${n.Singular}Dto } from './dto/${n.singularKebab}.dto';
import { ${n.Plural}Repository } from './${n.kebab}.repository';

@Injectable()
export class ${n.Plural}Service {
  constructor(private readonly ${n.plural}: ${n.Plural}Repository) {}

  async list(query: List${n.Plural}Query): Promise<Page<${n.Singular}Dto>> {
    const after = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await this.${n.plural}.page(query.limit, after);
    return toPage(rows, query.limit, (row) => ${n.Singular}Dto.from(row));
  }

  async get(id: string): Promise<${n.Singular}Dto> {
    const row = await this.${n.plural}.findById(id);
    if (!row) throw notFound();
    return ${n.Singular}Dto.from(row);
  }

  count(): Promise<number> {
    return this.${n.plural}.count();
  }

  @Transactional()
  async create(input: Create${n.Singular}Dto): Promise<${n.Singular}Dto> {
    return ${n.Singular}Dto.from(await this.${n.plural}.insert({ name: input.name }));
  }

  @Transactional()
  async update(id: string, changes: Update${n.Singular}Dto): Promise<${n.Singular}Dto> {
    if (!(await this.${n.plural}.findById(id))) throw notFound();
    const update = Object.fromEntries(
      Object.entries(changes).filter(([, value]) => value !== undefined),
    );
    if (Object.keys(update).length > 0) await this.${n.plural}.update(id, update);
    return this.get(id);
  }

  @Transactional()
  async delete(id: string): Promise<void> {
    if (!(await this.${n.plural}.delete(id))) throw notFound();
  }
}

function notFound(): ProblemException {
  return new ProblemException('NOT_FOUND', 'No ${n.words} with this id.');
}
`;

export const serviceSpec = (n: Names): string => `import { ProblemException } from '@girder/errors';
import { ${n.Singular}Dto } from './dto/${n.singularKebab}.dto';
import type { ${n.Singular} } from './${n.singularKebab}.entity';
import type { ${n.Plural}Repository } from './${n.kebab}.repository';
import { ${n.Plural}Service } from './${n.kebab}.service';

const row: ${n.Singular} = {
  id: '0b6c7f5e-3f1a-4d8e-9c2b-1a2b3c4d5e6f',
  name: 'First',
  createdAt: new Date('2026-01-02T03:04:05.678Z'),
  updatedAt: new Date('2026-01-03T03:04:05.678Z'),
};

describe('${n.Plural}Service (no database)', () => {
  const serviceOver = (found: ${n.Singular} | null) =>
    new ${n.Plural}Service({ findById: async () => found } as unknown as ${n.Plural}Repository);

  it('maps a row to its public shape with ISO timestamps', () => {
    expect(${n.Singular}Dto.from(row)).toEqual({
      id: row.id,
      name: 'First',
      createdAt: '2026-01-02T03:04:05.678Z',
      updatedAt: '2026-01-03T03:04:05.678Z',
    });
  });

  it('get() answers the DTO, and NOT_FOUND for an unknown id', async () => {
    await expect(serviceOver(row).get(row.id)).resolves.toEqual(${n.Singular}Dto.from(row));
    const missing = serviceOver(null).get(row.id);
    await expect(missing).rejects.toBeInstanceOf(ProblemException);
    await expect(missing).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
`;
