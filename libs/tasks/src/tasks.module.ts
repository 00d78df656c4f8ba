import { DynamicModule, Module, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule } from '@bull-board/nestjs';
import { DatabaseModule } from '@girder/database';
import { QueueBackend } from './queue-backend';
import { QUEUE_BACKEND_PROVIDER } from './queue-backend.provider';
import { QueueDashboardAuthMiddleware } from './queue-dashboard.middleware';
import { QueueDashboardQueues } from './queue-dashboard.queues';
import { QUEUE_DASHBOARD_PATH } from './queue-dashboard.routes';
import { TaskMetrics } from './task-metrics';
import { TaskOutbox } from './task-outbox';
import { TaskOutboxSweeper } from './task-outbox-sweeper';
import { TaskPayloadVault } from './task-payload-vault';
import { QUEUE_TOKEN_PROVIDERS, TaskQueues } from './task-queues.service';
import { TaskRegistry } from './task-registry';
import { TaskRunner } from './task-runner';
import { TaskSchedules } from './task-schedules';
import { TaskStateWriter } from './task-state-writer';
import { TaskStorage } from './task-storage';
import { TaskWaiter } from './task-waiter';
import { TaskWorkers } from './task-workers.processor';
import { Task } from './task.entity';
import { TasksController } from './tasks.controller';
import { TasksRepository } from './tasks.repository';
import { TasksService } from './tasks.service';

const shared: Provider[] = [
  // Redis when REDIS_URL is set, else BullMQ's PostgreSQL backend: the only place that asks.
  QUEUE_BACKEND_PROVIDER,
  TasksRepository,
  TaskRegistry,
  TaskQueues,
  ...QUEUE_TOKEN_PROVIDERS,
  TaskMetrics,
  TaskStorage,
  TaskPayloadVault,
  TaskOutbox,
];

/**
 * The task engine. It knows no feature: features declare their task types as providers of
 * their own modules (`@TaskType` + `TaskHandler`), which the registry discovers, and use
 * `TasksService` / `TaskStorage` (this module is global) to submit work and store files.
 */
@Module({})
export class TasksModule {
  /** Routes, submission, waiting and the admin dashboard. */
  static forApi(): DynamicModule {
    return {
      module: TasksModule,
      global: true,
      imports: [
        DiscoveryModule,
        DatabaseModule.forFeature([Task]),
        // Async so each app gets its own Express adapter: forRoot() would create one when this
        // module is defined and share it with every app built in the process.
        BullBoardModule.forRootAsync({
          useFactory: () => ({
            route: QUEUE_DASHBOARD_PATH,
            adapter: ExpressAdapter,
            middleware: QueueDashboardAuthMiddleware,
          }),
        }),
      ],
      controllers: [TasksController],
      providers: [
        ...shared,
        TasksService,
        TaskWaiter,
        QueueDashboardAuthMiddleware,
        QueueDashboardQueues,
      ],
      exports: [TasksService, TaskRegistry, TaskStorage, QueueBackend],
    };
  }

  /** The queue workers, schedules, and the outbox sweep and reconciliation. */
  static forWorker(): DynamicModule {
    return {
      module: TasksModule,
      global: true,
      imports: [DiscoveryModule, DatabaseModule.forFeature([Task])],
      providers: [
        ...shared,
        TaskRunner,
        TaskStateWriter,
        TaskWorkers,
        TaskSchedules,
        TaskOutboxSweeper,
      ],
      exports: [
        TaskRegistry,
        TaskQueues,
        TaskStorage,
        TaskSchedules,
        QueueBackend,
        ...QUEUE_TOKEN_PROVIDERS,
      ],
    };
  }
}
