export { AppConfig } from './app-config';
export { Clock } from './clock';
export { ConfigModule } from './config.module';
export { environmentConfig } from './environment.config';
export {
  DEVELOPMENT_ADMIN_EMAIL,
  DEVELOPMENT_ADMIN_PASSWORD,
  Environment,
  LOG_LEVELS,
  NODE_ENVS,
} from './environment';
export type { TrustProxy } from './trust-proxy';
export {
  DATABASE_URL_MISSING,
  InvalidEnvironmentError,
  validateEnvironment,
} from './validate-environment';
