import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddUsersEmailVerifiedAt1795420000000 implements MigrationInterface {
  name = 'AddUsersEmailVerifiedAt1795420000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" ADD "email_verified_at" timestamptz(3)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "users" DROP COLUMN "email_verified_at"`);
  }
}
