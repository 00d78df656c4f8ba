import { DynamicModule, Module } from '@nestjs/common';
import { DatabaseModule } from '@girder/database';
import { AdminSeeder } from './admin-seeder';
import { PasswordHasher } from './password-hasher';
import { SignupsReportTask } from './tasks/signups-report.task';
import { UsersExportTask } from './tasks/users-export.task';
import { UsersImportTask } from './tasks/users-import.task';
import { WelcomeEmailListener } from './tasks/welcome-email.listener';
import { WelcomeEmailTask } from './tasks/welcome-email.task';
import { User } from './user.entity';
import { UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

/**
 * The users feature's task types: providers of this module in both apps (the API validates
 * submissions, the worker runs them); the task engine discovers them.
 */
const TASK_TYPES = [UsersImportTask, UsersExportTask, SignupsReportTask, WelcomeEmailTask];

const core = {
  imports: [DatabaseModule.forFeature([User])],
  providers: [UsersRepository, UsersService, PasswordHasher, ...TASK_TYPES],
  exports: [UsersService, PasswordHasher],
};

/*
 * One object per shape, so every module importing UsersModule.forApi() (the API root, auth)
 * shares one instance: Nest 11 tells dynamic modules apart by reference.
 */
let forApi: DynamicModule | undefined;
let forWorker: DynamicModule | undefined;

@Module({})
export class UsersModule {
  /** The HTTP routes, the admin seed and the welcome mail after sign-up: for the API. */
  static forApi(): DynamicModule {
    forApi ??= {
      module: UsersModule,
      ...core,
      controllers: [UsersController],
      providers: [...core.providers, AdminSeeder, WelcomeEmailListener],
    };
    return forApi;
  }

  /** Services and task types: for the worker. */
  static forWorker(): DynamicModule {
    forWorker ??= { module: UsersModule, ...core };
    return forWorker;
  }
}
