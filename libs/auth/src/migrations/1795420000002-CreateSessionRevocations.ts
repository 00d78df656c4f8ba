import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateSessionRevocations1795420000002 implements MigrationInterface {
  name = 'CreateSessionRevocations1795420000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "session_revocations" (
        "family" uuid NOT NULL,
        "revoked_at" timestamptz(3) NOT NULL DEFAULT now(),
        CONSTRAINT "pk_session_revocations" PRIMARY KEY ("family")
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_session_revocations_revoked_at" ON "session_revocations" ("revoked_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "session_revocations"`);
  }
}
