// The CLI's building blocks, for tests and tools that drive a host the way `tako` does.
export { type BuiltRelease, buildApp } from "./build/build-app.js";
export { type AppConfig, loadAppConfig, parseAppConfig } from "./config/app-config.js";
export type { ServerEntry } from "./config/global-config.js";
export { deployRelease } from "./deploy/deploy-release.js";
export { ServerDeploy, type ServerDeployPhase } from "./deploy/server-deploy.js";
export { Terminal } from "./output/terminal.js";
export {
  connectServer,
  type ServerConnection,
  type SshSettings,
  sshSettings,
} from "./remote/server-connection.js";
export { openRemoteAgent, type RemoteAgent } from "./ssh/remote-agent.js";
export { SshSession } from "./ssh/ssh-session.js";
