export { AUTH_API_TAG } from './auth.controller';
export { AuthModule } from './auth.module';
export { AuthService, type ClientInfo } from './auth.service';
export { LoginDto, RefreshDto, RegisterDto, SessionDto } from './dto/auth.dto';
export { JwtAuthenticator } from './jwt-authenticator';
export { CreateSessions1795409287913 } from './migrations/1795409287913-CreateSessions';
export { Session } from './session.entity';
