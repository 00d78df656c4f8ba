import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The tasks table becomes the outbox of the queues: `enqueued_at` records when a task's job
 * reached BullMQ (null = not yet: the worker's sweep hands it off), `queue_prefix` which
 * deployment's queues (REDIS_KEY_PREFIX) carry it. Two small partial indexes serve the sweep
 * and the reconciliation; finished tasks, the bulk of the table, are in neither.
 */
export class AddTasksOutbox1795430000000 implements MigrationInterface {
  name = 'AddTasksOutbox1795430000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "tasks" ADD "enqueued_at" timestamptz(3)`);
    await queryRunner.query(`ALTER TABLE "tasks" ADD "queue_prefix" varchar(64)`);
    // Before the outbox, a task was queued when it was submitted (or failed at once). Only
    // unfinished tasks ever read the column.
    await queryRunner.query(
      `UPDATE "tasks" SET "enqueued_at" = "created_at" WHERE "status" IN ('queued', 'running')`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_tasks_outbox" ON "tasks" ("created_at") WHERE "status" = 'queued' AND "enqueued_at" IS NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "ix_tasks_unfinished" ON "tasks" ("id") WHERE "status" IN ('queued', 'running')`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_tasks_unfinished"`);
    await queryRunner.query(`DROP INDEX "ix_tasks_outbox"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "queue_prefix"`);
    await queryRunner.query(`ALTER TABLE "tasks" DROP COLUMN "enqueued_at"`);
  }
}
