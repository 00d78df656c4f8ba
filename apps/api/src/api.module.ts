import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { AuthModule, JwtAuthenticator } from '@girder/auth';
import { CacheModule } from '@girder/cache';
import { ConfigModule } from '@girder/config';
import { DatabaseModule } from '@girder/database';
import { ErrorsModule } from '@girder/errors';
import { HealthModule } from '@girder/health';
import { LoggingModule } from '@girder/logging';
import { MailModule } from '@girder/mail';
import { MetricsModule } from '@girder/metrics';
import { PermissionsModule } from '@girder/permissions';
import { RateLimitModule } from '@girder/rate-limit';
import { RedisModule } from '@girder/redis';
import { TasksModule } from '@girder/tasks';
import { UsersModule } from '@girder/users';

/** Composition root of the HTTP API: core libraries first, then the features it serves. */
@Module({
  imports: [
    ConfigModule,
    LoggingModule.forRoot('api'),
    DatabaseModule.forRoot('girder-api'),
    RedisModule,
    MetricsModule.forApi(),
    CacheModule,
    ErrorsModule.forRoot(),
    RateLimitModule,
    EventEmitterModule.forRoot(),
    PermissionsModule.forRoot({
      imports: [AuthModule.forApi()],
      authenticator: JwtAuthenticator,
    }),
    HealthModule.forApi(),
    MailModule,
    TasksModule.forApi(),
    // Features.
    UsersModule.forApi(),
    AuthModule.forApi(),
  ],
})
export class ApiModule {}
