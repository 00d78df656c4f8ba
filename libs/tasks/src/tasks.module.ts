import { DynamicModule, Module, type Provider } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ExpressAdapter } from '@bull-board/express';
import { BullBoardModule } from '@bull-board/nestjs';
import { DatabaseModule } from '@girder/database';
import { UsersModule } from '@girder/users';
import { Mailer } from './mailer';
import { QueueDashboardAuthMiddleware } from './queue-dashboard.middleware';
import { QueueDashboardQueues } from './queue-dashboard.queues';
import { SignupsReportSchedule } from './signups-schedule';
import { TaskMetrics } from './task-metrics';
import { QUEUE_TOKEN_PROVIDERS, TaskQueues } from './task-queues.service';
import { TaskPayloadVault } from './task-payload-vault';
import { TaskRegistry } from './task-registry';
import { TaskRunner } from './task-runner';
import { TaskStorage } from './task-storage';
import { TaskWaiter } from './task-waiter';
import { TaskWorkers } from './task-workers.processor';
import { Task } from './task.entity';
import { TasksController } from './tasks.controller';
import { TasksRepository } from './tasks.repository';
import { TasksService } from './tasks.service';
import { SignupsReportTask } from './types/signups-report.task';
import { UsersExportTask } from './types/users-export.task';
import { UsersImportTask } from './types/users-import.task';
import { WelcomeEmailTask } from './types/welcome-email.task';
import { WelcomeEmailListener } from './welcome-email.listener';

/** The task types that ship with Girder. Add yours here (or to your own module's providers). */
export const TASK_TYPES = [UsersImportTask, UsersExportTask, SignupsReportTask, WelcomeEmailTask];

const shared: Provider[] = [
  TasksRepository,
  TaskRegistry,
  TaskQueues,
  ...QUEUE_TOKEN_PROVIDERS,
  TaskMetrics,
  TaskStorage,
  TaskPayloadVault,
  Mailer,
  ...TASK_TYPES,
];

@Module({})
export class TasksModule {
  /** Routes, submission, waiting, the welcome-mail listener and the admin dashboard. */
  static forApi(): DynamicModule {
    return {
      module: TasksModule,
      imports: [
        DiscoveryModule,
        DatabaseModule.forFeature([Task]),
        UsersModule.forApi(),
        // Async so each app gets its own Express adapter: forRoot() would create one when this
        // module is defined and share it with every app built in the process.
        BullBoardModule.forRootAsync({
          useFactory: () => ({
            route: '/admin/queues',
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
        WelcomeEmailListener,
        QueueDashboardAuthMiddleware,
        QueueDashboardQueues,
      ],
      exports: [TasksService, TaskRegistry],
    };
  }

  /** The queue workers and schedules. */
  static forWorker(): DynamicModule {
    return {
      module: TasksModule,
      imports: [DiscoveryModule, DatabaseModule.forFeature([Task]), UsersModule.forWorker()],
      providers: [...shared, TaskRunner, TaskWorkers, SignupsReportSchedule],
      exports: [TaskRegistry, TaskQueues, ...QUEUE_TOKEN_PROVIDERS],
    };
  }
}
