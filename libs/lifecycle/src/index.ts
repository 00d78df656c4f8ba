export { installGracefulShutdown, type GracefulShutdownOptions } from './graceful-shutdown';
export { runMain } from './run-main';
