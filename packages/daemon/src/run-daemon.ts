import { TakoError } from "@tako/errors";
import type { DaemonDefinition } from "./definition.js";
import type { FlagSpecs } from "./flags.js";
import { WORKER_ENV } from "./ipc.js";
import { createLogger } from "./logger.js";
import { DaemonMaster, describeExit } from "./master.js";
import { runWorker } from "./worker.js";

/**
 * Entry point of every daemon's main.ts. Started by a supervisor of processes (systemd, or the
 * local host launcher's DaemonMaster) the module runs as a worker; started bare (a systemd unit's
 * ExecStart) it runs as the daemon's master, which keeps worker generations running:
 *   SIGHUP reloads (a successor takes the socket, the predecessor drains),
 *   SIGTERM/SIGINT drain and exit, a second one kills at once,
 *   an unexpected worker exit exits the master non-zero so systemd restarts the unit.
 */
export async function runDaemon<S extends FlagSpecs>(
  definition: DaemonDefinition<S>,
  entry: string,
  argv: readonly string[] = process.argv.slice(2),
): Promise<void> {
  if (process.env[WORKER_ENV] === "worker") {
    await runWorker(definition, argv);
    return;
  }
  const log = createLogger({ fields: { role: "master", pid: process.pid } });
  const master = new DaemonMaster({ name: definition.name, entry, args: argv, log });
  let terminations = 0;
  const terminate = (signal: NodeJS.Signals) => {
    terminations++;
    if (terminations > 1) {
      log.warn("forced stop", { daemon: definition.name, signal });
      master.kill();
      process.exit(1);
    }
    log.info("stopping", { daemon: definition.name, signal });
    void master.stop({ closeListeners: true }).then(() => process.exit(0));
  };
  process.on("SIGTERM", terminate);
  process.on("SIGINT", terminate);
  process.on("SIGHUP", () => {
    master
      .reload()
      .catch((err: unknown) => log.error("reload failed", { daemon: definition.name, error: err }));
  });
  master.on("crash", (exit) => {
    log.error("worker crashed; exiting so the service manager restarts the daemon", {
      daemon: definition.name,
      exit: describeExit(exit),
    });
    process.exit(1);
  });
  try {
    await master.start();
  } catch (err) {
    log.error("start failed", { daemon: definition.name, error: TakoError.is(err) ? err.message : err });
    process.exit(1);
  }
}
