import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '@girder/config';
import { UsersService } from './users.service';

/** Creates (or keeps) the admin from ADMIN_EMAIL / ADMIN_PASSWORD when the API starts. */
@Injectable()
export class AdminSeeder implements OnApplicationBootstrap {
  private readonly logger = new Logger('AdminSeeder');

  constructor(
    private readonly users: UsersService,
    private readonly config: AppConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const email = this.config.get('ADMIN_EMAIL');
    const password = this.config.get('ADMIN_PASSWORD');
    if (!email || !password) {
      this.logger.log('ADMIN_EMAIL / ADMIN_PASSWORD not set: no admin seeded');
      return;
    }
    const created = await this.users.ensureAdmin(email, password);
    if (!created) this.logger.log(`Admin ${email} already exists`);
  }
}
