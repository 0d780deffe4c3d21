export { agentd } from "./agentd.js";
export { DaemonDirectory, type DaemonDirectoryDeps, type DaemonHealth } from "./host/daemon-directory.js";
