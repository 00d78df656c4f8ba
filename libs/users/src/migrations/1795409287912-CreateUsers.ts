import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateUsers1795409287912 implements MigrationInterface {
  name = 'CreateUsers1795409287912';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "users" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "created_at" timestamptz(3) NOT NULL DEFAULT now(),
        "updated_at" timestamptz(3) NOT NULL DEFAULT now(),
        "email" text NOT NULL,
        "name" varchar(100) NOT NULL,
        "role" varchar(16) NOT NULL DEFAULT 'user',
        "is_active" boolean NOT NULL DEFAULT true,
        "password_hash" text NOT NULL,
        CONSTRAINT "pk_users" PRIMARY KEY ("id"),
        CONSTRAINT "uq_users_email" UNIQUE ("email"),
        CONSTRAINT "ck_users_role" CHECK ("role" IN ('user', 'admin')),
        CONSTRAINT "ck_users_email_normalised" CHECK ("email" = lower(btrim("email")))
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_users_created_at_id" ON "users" ("created_at" DESC, "id" DESC)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "users"`);
  }
}
