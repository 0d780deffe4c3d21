export {
  type CertdHostOptions,
  daemonArgs,
  daemonEntry,
  isLauncherAlive,
  type LauncherIdentity,
  LocalHost,
  type LocalHostOptions,
  readLauncherPid,
} from "./local-host.js";
export { type RestartDecision, RestartPolicy, type RestartPolicyOptions } from "./restart-policy.js";
