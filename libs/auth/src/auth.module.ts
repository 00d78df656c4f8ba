import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { PassportModule } from '@nestjs/passport';
import { AppConfig } from '@girder/config';
import { DatabaseModule } from '@girder/database';
import { UsersModule } from '@girder/users';
import { createSecretKey, type KeyObject } from 'node:crypto';
import { AccessTokenService } from './access-token.service';
import { ACCESS_TOKEN_KEY } from './auth.constants';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { JwtAuthenticator } from './jwt-authenticator';
import { JwtStrategy } from './jwt.strategy';
import { Session } from './session.entity';
import { SessionRevocations } from './session-revocations';
import { SessionsRepository } from './sessions.repository';
import { UserAccessListener } from './user-access.listener';

const signingKey = {
  provide: ACCESS_TOKEN_KEY,
  inject: [AppConfig],
  useFactory: (config: AppConfig): KeyObject =>
    createSecretKey(Buffer.from(config.get('JWT_SECRET'), 'utf8')),
};

@Module({
  imports: [
    DatabaseModule.forFeature([Session]),
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
  controllers: [AuthController],
  providers: [
    signingKey,
    SessionsRepository,
    SessionRevocations,
    AccessTokenService,
    AuthService,
    JwtStrategy,
    JwtAuthenticator,
    UserAccessListener,
  ],
  exports: [JwtAuthenticator, AuthService],
})
export class AuthModule {}
