export { AppConfig } from './app-config';
export { Clock } from './clock';
export { ConfigModule } from './config.module';
export { environmentConfig } from './environment.config';
export { Environment, LOG_LEVELS, NODE_ENVS } from './environment';
export type { TrustProxy } from './trust-proxy';
export { InvalidEnvironmentError, validateEnvironment } from './validate-environment';
