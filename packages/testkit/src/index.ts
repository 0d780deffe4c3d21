export { type CliResult, REPO_ROOT, runTako, TAKO_BIN } from "./cli.js";
export { type StartTestHostOptions, startTestHost, type TestHost } from "./local-host.js";
export { freePort, isAlive, type ProcessInfo, processesMentioning, socketsIn } from "./processes.js";
export { type StartTestSshdOptions, startTestSshd, type TestSshd } from "./sshd.js";
export { makeTempRoot, type TempRoot } from "./temp-root.js";
export { sleep, type WaitOptions, waitFor } from "./wait.js";
