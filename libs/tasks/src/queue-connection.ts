import type { AppConfig } from '@girder/config';
import type { QueueOptions } from 'bullmq';
import { redisKey } from '@girder/redis';

/** Connection and key prefix shared by every queue, worker and queue-events client. */
export function queueConnectionOptions(
  config: AppConfig,
): Pick<QueueOptions, 'connection' | 'prefix'> {
  return {
    // BullMQ workers need maxRetriesPerRequest: null (blocking commands must wait, not fail).
    connection: { url: config.get('REDIS_URL'), maxRetriesPerRequest: null },
    // BullMQ appends `:<queue>:<key>` itself.
    prefix: redisKey(config.get('REDIS_KEY_PREFIX'), 'queue'),
  };
}
