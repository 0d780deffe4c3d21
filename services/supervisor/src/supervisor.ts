import type { DaemonDefinition } from "@tako/daemon";
import { ServingStatus } from "@tako/proto";
import { SUPERVISOR_FLAGS } from "./config.js";
import { Fleet } from "./fleet/fleet.js";
import { supervisorServiceRoutes } from "./rpc/supervisor-service.js";
import { sdkEntrypointPath } from "./spawn/sdk-link.js";

/** supervisor: every app process on the host (socket supervisor.sock, root only). */
export const supervisor: DaemonDefinition<typeof SUPERVISOR_FLAGS> = {
  name: "supervisor",
  flags: SUPERVISOR_FLAGS,
  // Follow-mode log streams never end on their own, like watches: end them at drain too.
  cutOnDrain: (method) => method.name.startsWith("Watch") || method.name === "Logs",
  create(ctx) {
    const fleet = new Fleet({
      paths: ctx.paths,
      config: ctx.config,
      log: ctx.log,
      sdkEntrypoint: sdkEntrypointPath(),
    });
    return {
      routes: supervisorServiceRoutes(fleet),
      start: () => fleet.start(),
      stop: (deadlineMs, reason) => fleet.stop(deadlineMs, reason),
      health: () =>
        fleet.ownership === "waiting"
          ? {
              status: ServingStatus.SERVING,
              detail: "taking over app processes from the previous supervisor",
            }
          : { status: ServingStatus.SERVING },
    };
  },
};
