import {
  type DaemonDefinition,
  type DaemonName,
  INSTALLED_DAEMONS,
  readLauncherState,
  SOCKET_NAMES,
} from "@tako/daemon";
import { HealthService, ServingStatus } from "@tako/proto";
import { createRpcChannel, createRpcClient, type RpcChannel, stableSocketPath } from "@tako/rpc";
import { AGENTD_FLAGS } from "./config.js";
import { DaemonDirectory } from "./host/daemon-directory.js";
import { agentServiceRoutes } from "./rpc/agent-service.js";

const startedAt = Date.now();

/** agentd: the management API on tako.sock (root and the `tako` group only). */
export const agentd: DaemonDefinition<typeof AGENTD_FLAGS> = {
  name: "agentd",
  flags: AGENTD_FLAGS,
  socketMode: 0o660,
  socketGroup: "tako",
  create(ctx) {
    const channels = new Map<DaemonName, RpcChannel>();
    const channelTo = (daemon: DaemonName) => {
      let channel = channels.get(daemon);
      if (!channel) {
        channel = createRpcChannel(stableSocketPath(ctx.paths.runDir, SOCKET_NAMES[daemon]), {
          timeoutMs: 2_000,
          retries: 2,
        });
        channels.set(daemon, channel);
      }
      return channel;
    };
    const directory = new DaemonDirectory({
      paths: ctx.paths,
      daemons: INSTALLED_DAEMONS,
      version: ctx.version,
      httpPort: ctx.config.httpPort,
      httpsPort: ctx.config.httpsPort,
      check: (daemon) => createRpcClient(HealthService, channelTo(daemon)).check({}),
      self: () => ({
        status: ServingStatus.SERVING,
        pid: process.pid,
        version: ctx.version,
        uptimeMs: BigInt(Date.now() - startedAt),
        detail: "",
      }),
      sendSignal: (pid, signal) => process.kill(pid, signal),
      readLauncherState: () => readLauncherState(ctx.paths.runDir),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    });
    return {
      routes: agentServiceRoutes(directory),
      start: async () => undefined,
      stop: async () => {
        for (const channel of channels.values()) channel.close();
      },
    };
  },
};
