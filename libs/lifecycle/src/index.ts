export { resolveProcessCount, superviseCluster, type ClusterOptions } from './cluster-supervisor';
export {
  CLUSTER_SHUTDOWN_MESSAGE,
  installGracefulShutdown,
  type GracefulShutdownOptions,
} from './graceful-shutdown';
export { runMain, type RunMainOptions } from './run-main';
