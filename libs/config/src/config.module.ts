import { Global, Module } from '@nestjs/common';
import { ConfigModule as NestConfigModule } from '@nestjs/config';
import { AppConfig } from './app-config';
import { Clock } from './clock';
import { environmentConfig } from './environment.config';

/**
 * Loads `.env` when present (real environment variables win), validates every variable when
 * the app starts (one error naming all bad ones) and exposes the typed result as `AppConfig`.
 */
@Global()
@Module({
  imports: [
    NestConfigModule.forRoot({
      isGlobal: true,
      envFilePath: ['.env'],
      load: [environmentConfig],
    }),
  ],
  providers: [AppConfig, Clock],
  exports: [AppConfig, Clock],
})
export class ConfigModule {}
