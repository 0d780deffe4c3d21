export type {
  DaemonContext,
  DaemonDefinition,
  DaemonService,
  ListenTcpOptions,
  ServiceHealth,
} from "./definition.js";
export {
  COMMON_FLAGS,
  type DaemonConfig,
  type FlagSpec,
  type FlagSpecs,
  type FlagValues,
  parseFlags,
} from "./flags.js";
export {
  type LauncherState,
  launcherPidPath,
  launcherStatePath,
  readLauncherState,
  type SupervisedDaemon,
  type SupervisedState,
  writeLauncherState,
} from "./launcher-state.js";
export { createLogger, type LogFields, type Logger, type LoggerOptions, type LogLevel } from "./logger.js";
export {
  DaemonMaster,
  type DaemonMasterOptions,
  describeExit,
  type ReloadResult,
  type WorkerExit,
} from "./master.js";
export { type HostPaths, hostPaths } from "./paths.js";
export { processStartTime, processStartTimeSync } from "./process-identity.js";
export { DAEMONS, type DaemonName, INSTALLED_DAEMONS, isDaemonName, SOCKET_NAMES } from "./registry.js";
export { runDaemon } from "./run-daemon.js";
export { TAKO_VERSION } from "./version.js";
export { EXIT_CONFIG } from "./worker.js";
