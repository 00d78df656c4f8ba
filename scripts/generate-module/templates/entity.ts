import type { Names } from '../names';

export const entity = (n: Names): string => `import { BaseEntity } from '@girder/database';
import { Column, Entity, Index } from 'typeorm';

/** One ${n.words}. Add your columns here, then run \`npm run migration:generate\` (docs/adding-a-module.md). */
@Entity('${n.table}')
@Index('ix_${n.table}_created_at_id', ['createdAt', 'id'])
export class ${n.Singular} extends BaseEntity {
  @Column({ type: 'varchar', length: 100 })
  name!: string;
}
`;

export const migration = (
  n: Names,
  timestamp: number,
): string => `import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Create${n.Plural}${timestamp} implements MigrationInterface {
  name = 'Create${n.Plural}${timestamp}';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(\`
      CREATE TABLE "${n.table}" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "created_at" timestamptz(3) NOT NULL DEFAULT now(),
        "updated_at" timestamptz(3) NOT NULL DEFAULT now(),
        "name" varchar(100) NOT NULL,
        CONSTRAINT "pk_${n.table}" PRIMARY KEY ("id")
      )\`);
    await queryRunner.query(
      \`CREATE INDEX "ix_${n.table}_created_at_id" ON "${n.table}" ("created_at" DESC, "id" DESC)\`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(\`DROP TABLE "${n.table}"\`);
  }
}
`;

export const repository = (n: Names): string => `import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { TransactionalRepository } from '@girder/database';
import type { KeysetPosition } from '@girder/http';
import { ${n.Singular} } from './${n.singularKebab}.entity';

/** The columns a caller sets; id and timestamps come from the database. */
export type ${n.Singular}Fields = Pick<${n.Singular}, 'name'>;

/** Every query goes through the transaction host, so it joins the caller's @Transactional(). */
@Injectable()
export class ${n.Plural}Repository extends TransactionalRepository<${n.Singular}> {
  constructor(txHost: TransactionHost<TransactionalAdapterTypeOrm>) {
    super(txHost, ${n.Singular});
  }

  insert(fields: ${n.Singular}Fields): Promise<${n.Singular}> {
    return this.repository.save(this.repository.create(fields));
  }

  findById(id: string): Promise<${n.Singular} | null> {
    return this.repository.findOneBy({ id });
  }

  /** Newest first, ties by id; \`limit + 1\` rows so the caller knows whether more exist. */
  page(limit: number, after?: KeysetPosition): Promise<${n.Singular}[]> {
    const query = this.repository.createQueryBuilder('row');
    if (after) query.where('(row.createdAt, row.id) < (:createdAt, :id)', after);
    return query
      .orderBy('row.createdAt', 'DESC')
      .addOrderBy('row.id', 'DESC')
      .limit(limit + 1)
      .getMany();
  }

  count(): Promise<number> {
    return this.repository.count();
  }

  async update(id: string, changes: Partial<${n.Singular}Fields>): Promise<void> {
    await this.repository.update({ id }, changes);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.repository.delete({ id });
    return (result.affected ?? 0) > 0;
  }
}
`;
