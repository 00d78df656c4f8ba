import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { AuthModule } from '@girder/auth';
import { CacheModule } from '@girder/cache';
import { ConfigModule } from '@girder/config';
import { DatabaseModule } from '@girder/database';
import { HealthModule } from '@girder/health';
import { LoggingModule } from '@girder/logging';
import { MailModule } from '@girder/mail';
import { MetricsModule } from '@girder/metrics';
import { RedisModule } from '@girder/redis';
import { TasksModule } from '@girder/tasks';
import { UsersModule } from '@girder/users';

/** Composition root of the worker: the task engine's workers and the features' task types; no HTTP routes. */
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
    MailModule,
    TasksModule.forWorker(),
    // Features: each brings its task types.
    UsersModule.forWorker(),
    AuthModule.forWorker(),
  ],
})
export class WorkerModule {}
