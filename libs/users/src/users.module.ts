import { DynamicModule, Module } from '@nestjs/common';
import { DatabaseModule } from '@girder/database';
import { AdminSeeder } from './admin-seeder';
import { PasswordHasher } from './password-hasher';
import { User } from './user.entity';
import { UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersBulkService } from './users-bulk.service';
import { UsersService } from './users.service';

const core = {
  imports: [DatabaseModule.forFeature([User])],
  providers: [UsersRepository, UsersService, UsersBulkService, PasswordHasher],
  exports: [UsersService, UsersBulkService, PasswordHasher],
};

@Module({})
export class UsersModule {
  /** The HTTP routes and the admin seed: for the API. */
  static forApi(): DynamicModule {
    return {
      module: UsersModule,
      ...core,
      controllers: [UsersController],
      providers: [...core.providers, AdminSeeder],
    };
  }

  /** Services only: for the worker (imports and exports of users). */
  static forWorker(): DynamicModule {
    return { module: UsersModule, ...core };
  }
}
