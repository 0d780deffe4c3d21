export { type CliResult, REPO_ROOT, runTako, startTakoServer, TAKO_BIN } from "./cli.js";
export { type DnsServer, type DnsServerOptions, startDnsServer } from "./dns-server.js";
export { type StartTestHostOptions, startTestHost, type TestHost } from "./local-host.js";
export { type Pebble, type PebbleOptions, startPebble } from "./pebble.js";
export {
  establishedConnections,
  freePort,
  isAlive,
  type ProcessInfo,
  processesMentioning,
  socketsIn,
} from "./processes.js";
export { type ServiceProcess, type StartServiceOptions, startServiceProcess } from "./service-process.js";
export { type StartTestSshdOptions, startTestSshd, type TestSshd } from "./sshd.js";
export { makeTempRoot, type TempRoot } from "./temp-root.js";
export { sleep, type WaitOptions, waitFor } from "./wait.js";
