import { create } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { AgentService, ReloadDaemonResponseSchema, ServerInfoResponseSchema } from "@tako/proto";
import type { DaemonDirectory } from "../host/daemon-directory.js";

/** Thin handlers of tako.v1.AgentService: decode, call the domain, encode. */
export function agentServiceRoutes(directory: DaemonDirectory) {
  return (router: ConnectRouter) => {
    router.service(AgentService, {
      serverInfo: async () => create(ServerInfoResponseSchema, await directory.serverInfo()),
      reloadDaemon: async (req) => {
        const result = await directory.reload(req.daemon);
        return create(ReloadDaemonResponseSchema, { daemon: req.daemon, ...result });
      },
    });
  };
}
