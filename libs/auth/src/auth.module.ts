import { DynamicModule, Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { AppConfig } from '@girder/config';
import { DatabaseModule } from '@girder/database';
import { UsersModule } from '@girder/users';
import { createSecretKey, type KeyObject } from 'node:crypto';
import { AccessTokenService } from './access-token.service';
import { AccountLinks } from './account/account-links';
import { AccountMailSender } from './account/account-mail-sender';
import { AccountToken } from './account/account-token.entity';
import { AccountTokensRepository } from './account/account-tokens.repository';
import { AccountController } from './account/account.controller';
import { AccountService } from './account/account.service';
import { PasswordResetMailTask } from './account/password-reset-mail.task';
import { VerificationMailListener } from './account/verification-mail.listener';
import { VerifyEmailMailTask } from './account/verify-email-mail.task';
import { ACCESS_TOKEN_KEY } from './auth.constants';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwtAuthenticator } from './jwt-authenticator';
import { JwtStrategy } from './jwt.strategy';
import { SessionRevocation } from './revocations/session-revocation.entity';
import { Session } from './session.entity';
import { SessionRevocations } from './revocations/session-revocations';
import { SessionsRepository } from './sessions.repository';
import { UserAccessListener } from './user-access.listener';

const signingKey = {
  provide: ACCESS_TOKEN_KEY,
  inject: [AppConfig],
  useFactory: (config: AppConfig): KeyObject =>
    createSecretKey(Buffer.from(config.get('JWT_SECRET'), 'utf8')),
};

/** The account mails' task types: in both apps (the API queues them, the worker runs them). */
const TASK_TYPES = [VerifyEmailMailTask, PasswordResetMailTask];
const MAIL_PROVIDERS = [AccountTokensRepository, AccountLinks, AccountMailSender, ...TASK_TYPES];

/*
 * One object per shape, so every module importing AuthModule.forApi() (the API root, the
 * permissions guard) shares one instance: Nest 11 tells dynamic modules apart by reference.
 */
let forApi: DynamicModule | undefined;
let forWorker: DynamicModule | undefined;

@Module({})
export class AuthModule {
  /** Sign-up, sign-in, tokens, sessions, verification and reset: the API's routes. */
  static forApi(): DynamicModule {
    forApi ??= {
      module: AuthModule,
      imports: [
        DatabaseModule.forFeature([Session, SessionRevocation, AccountToken]),
        UsersModule.forApi(),
        PassportModule,
        JwtModule.registerAsync({
          extraProviders: [signingKey],
          inject: [ACCESS_TOKEN_KEY],
          useFactory: (key: KeyObject) => ({
            secret: key,
            signOptions: { algorithm: 'HS256' },
            verifyOptions: { algorithms: ['HS256'] },
          }),
        }),
      ],
      controllers: [AuthController, AccountController],
      providers: [
        signingKey,
        SessionsRepository,
        SessionRevocations,
        AccessTokenService,
        AuthService,
        AccountService,
        JwtStrategy,
        JwtAuthenticator,
        UserAccessListener,
        VerificationMailListener,
        ...MAIL_PROVIDERS,
      ],
      exports: [JwtAuthenticator, AuthService],
    };
    return forApi;
  }

  /** The account mails' task types, for the worker. */
  static forWorker(): DynamicModule {
    forWorker ??= {
      module: AuthModule,
      imports: [DatabaseModule.forFeature([AccountToken]), UsersModule.forWorker()],
      providers: MAIL_PROVIDERS,
    };
    return forWorker;
  }
}
