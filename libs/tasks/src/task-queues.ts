/**
 * The queues Girder's own task types use. A feature adds its own simply by naming it in its
 * `@TaskType({ queue })`. On Redis their keys live under `<REDIS_KEY_PREFIX>:queue`; on
 * PostgreSQL their rows in the schema `queueSchema(REDIS_KEY_PREFIX)` (see QueueBackend).
 */
export const TASK_QUEUES = ['users', 'reports', 'email'] as const;
/** A queue name: lower-case letters, digits and dashes (BullMQ forbids `:`). */
export type TaskQueueName = string;
export const QUEUE_NAME = /^[a-z][a-z0-9-]{0,63}$/;
