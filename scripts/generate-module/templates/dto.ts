import type { Names } from '../names';

export const createDto = (n: Names): string => `import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

/** Body of \`POST /${n.kebab}\`. Unknown properties are a 400 (global ValidationPipe). */
export class Create${n.Singular}Dto {
  @ApiProperty({ minLength: 1, maxLength: 100, example: 'First ${n.words}' })
  @IsString()
  @Length(1, 100, { message: 'name must be 1 to 100 characters' })
  name!: string;
}
`;

export const updateDto = (n: Names): string => `import { PartialType } from '@nestjs/swagger';
import { Create${n.Singular}Dto } from './create-${n.singularKebab}.dto';

/**
 * Body of \`PATCH /${n.kebab}/:id\`: every field of the create body, all optional. \`null\` is
 * validated like any value (a 400, not a NOT NULL violation).
 */
export class Update${n.Singular}Dto extends PartialType(Create${n.Singular}Dto, {
  skipNullProperties: false,
}) {}
`;

export const listQuery = (n: Names): string => `import { PageQuery } from '@girder/http';

/** \`?limit=&cursor=\` of \`GET /${n.kebab}\`; add filters here. */
export class List${n.Plural}Query extends PageQuery {}
`;

export const publicDto = (n: Names): string => `import { ApiProperty } from '@nestjs/swagger';
import type { ${n.Singular} } from '../${n.singularKebab}.entity';

/** The public shape of a ${n.words}: what every response shows. */
export class ${n.Singular}Dto {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ example: 'First ${n.words}' })
  name!: string;

  @ApiProperty({ format: 'date-time' })
  createdAt!: string;

  @ApiProperty({ format: 'date-time' })
  updatedAt!: string;

  static from(row: ${n.Singular}): ${n.Singular}Dto {
    return {
      id: row.id,
      name: row.name,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    };
  }
}

export class ${n.Singular}PageDto {
  @ApiProperty({ type: [${n.Singular}Dto] })
  items!: ${n.Singular}Dto[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as ?cursor= for the next page; null on the last page',
  })
  nextCursor!: string | null;
}
`;

export const dtoIndex = (
  n: Names,
): string => `export { Create${n.Singular}Dto } from './create-${n.singularKebab}.dto';
export { List${n.Plural}Query } from './list-${n.kebab}.query';
export { Update${n.Singular}Dto } from './update-${n.singularKebab}.dto';
export { ${n.Singular}Dto, ${n.Singular}PageDto } from './${n.singularKebab}.dto';
`;
