import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAccountTokens1795420000001 implements MigrationInterface {
  name = 'CreateAccountTokens1795420000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "account_tokens" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "created_at" timestamptz(3) NOT NULL DEFAULT now(),
        "updated_at" timestamptz(3) NOT NULL DEFAULT now(),
        "user_id" uuid NOT NULL,
        "purpose" varchar(32) NOT NULL,
        "email" text NOT NULL,
        "token_hash" text NOT NULL,
        "expires_at" timestamptz(3) NOT NULL,
        "used_at" timestamptz(3),
        CONSTRAINT "pk_account_tokens" PRIMARY KEY ("id"),
        CONSTRAINT "uq_account_tokens_token_hash" UNIQUE ("token_hash"),
        CONSTRAINT "ck_account_tokens_purpose" CHECK ("purpose" IN ('verify-email', 'reset-password')),
        CONSTRAINT "fk_account_tokens_user" FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_account_tokens_user_purpose" ON "account_tokens" ("user_id", "purpose")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "account_tokens"`);
  }
}
