import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateTasks1795410000000 implements MigrationInterface {
  name = 'CreateTasks1795410000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "tasks" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "created_at" timestamptz(3) NOT NULL DEFAULT now(),
        "updated_at" timestamptz(3) NOT NULL DEFAULT now(),
        "type" varchar(100) NOT NULL,
        "queue" varchar(50) NOT NULL,
        "status" varchar(16) NOT NULL DEFAULT 'queued',
        "progress" smallint NOT NULL DEFAULT 0,
        "payload" jsonb NOT NULL DEFAULT '{}',
        "result" jsonb,
        "error" text,
        "attempts" int NOT NULL DEFAULT 0,
        "owner_id" uuid,
        "checkpoint" jsonb,
        "file_path" text,
        "file_content_type" varchar(100),
        "started_at" timestamptz(3),
        "finished_at" timestamptz(3),
        CONSTRAINT "pk_tasks" PRIMARY KEY ("id"),
        CONSTRAINT "ck_tasks_status" CHECK ("status" IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
        CONSTRAINT "ck_tasks_progress" CHECK ("progress" BETWEEN 0 AND 100),
        CONSTRAINT "fk_tasks_owner" FOREIGN KEY ("owner_id") REFERENCES "users" ("id") ON DELETE SET NULL
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_tasks_owner_created" ON "tasks" ("owner_id", "created_at" DESC, "id" DESC)`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_tasks_created" ON "tasks" ("created_at" DESC, "id" DESC)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "tasks"`);
  }
}
