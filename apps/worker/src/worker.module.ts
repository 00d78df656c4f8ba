import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { CacheModule } from '@girder/cache';
import { ConfigModule } from '@girder/config';
import { DatabaseModule } from '@girder/database';
import { HealthModule } from '@girder/health';
import { LoggingModule } from '@girder/logging';
import { MetricsModule } from '@girder/metrics';
import { RedisModule } from '@girder/redis';
import { TasksModule } from '@girder/tasks';

/** Composition root of the worker: the same libraries as the API, hosting the queue workers; no HTTP routes. */
@Module({
  imports: [
    ConfigModule,
    LoggingModule.forRoot('worker'),
    DatabaseModule.forRoot('girder-worker'),
    RedisModule,
    MetricsModule.forWorker(),
    CacheModule,
    EventEmitterModule.forRoot(),
    HealthModule.forWorker(),
    TasksModule.forWorker(),
  ],
})
export class WorkerModule {}
