/** Queues per feature area; BullMQ keys live under `<REDIS_KEY_PREFIX>:queue`. */
export const TASK_QUEUES = ['users', 'reports', 'email'] as const;
export type TaskQueueName = (typeof TASK_QUEUES)[number];

export function queueKeyPrefix(redisKeyPrefix: string): string {
  return `${redisKeyPrefix}:queue`;
}
