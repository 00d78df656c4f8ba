import type { Provider } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { PostgresTaskBackend } from './postgres-task-backend';
import { QueueBackend } from './queue-backend';
import { RedisTaskBackend } from './redis-task-backend';

/** The task queues' store, chosen once from configuration: Redis when REDIS_URL is set. */
export function selectQueueBackend(config: AppConfig): QueueBackend {
  return config.get('REDIS_URL') ? new RedisTaskBackend(config) : new PostgresTaskBackend(config);
}

/** `QueueBackend` for the engine; closed (its own connections) when the app shuts down. */
export const QUEUE_BACKEND_PROVIDER: Provider = {
  provide: QueueBackend,
  inject: [AppConfig],
  useFactory: selectQueueBackend,
};
