import { create } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { AgentService, ReloadDaemonResponseSchema, ServerInfoResponseSchema } from "@tako/proto";
import type { AppManager } from "../apps/app-manager.js";
import type { DeployEngine } from "../deploy/deploy-engine.js";
import type { DaemonDirectory } from "../host/daemon-directory.js";

export interface AgentServiceDeps {
  readonly directory: DaemonDirectory;
  readonly engine: DeployEngine;
  readonly apps: AppManager;
}

/** Thin handlers of tako.v1.AgentService: decode, call the domain, encode. */
export function agentServiceRoutes({ directory, engine, apps }: AgentServiceDeps) {
  return (router: ConnectRouter) => {
    router.service(AgentService, {
      serverInfo: async () => create(ServerInfoResponseSchema, await directory.serverInfo()),
      reloadDaemon: async (req) =>
        create(ReloadDaemonResponseSchema, { daemon: req.daemon, ...(await directory.reload(req.daemon)) }),
      async *deploy(requests, ctx) {
        yield* engine.deploy(requests[Symbol.asyncIterator](), ctx.signal);
      },
      statRelease: async (req) => ({ present: await apps.statRelease(req.app, req.env, req.version) }),
      status: async (req) => ({ apps: await apps.status(req.app, req.env) }),
      scale: async (req) => {
        await apps.scale(req.app, req.env, req.instances);
        return { app: req.app, env: req.env, instances: req.instances };
      },
      listReleases: (req) => ({ releases: apps.listReleases(req.app, req.env) }),
      async *rollback(req, ctx) {
        for await (const event of apps.rollback(req.app, req.env, req.version, ctx.signal)) {
          if (event.msg?.case === "step" || event.msg?.case === "done") yield { msg: event.msg };
        }
      },
      async *logs(req, ctx) {
        for await (const entries of apps.logs(req, ctx.signal)) yield { entries };
      },
      getSecretsHash: (req) => ({ hash: apps.getSecretsHash(req.app, req.env) }),
      setSecrets: (req, ctx) => apps.setSecrets(req.app, req.env, req.secrets, ctx.signal),
      deleteApp: async (req) => ({ existed: await apps.deleteApp(req.app, req.env) }),
      setDnsProvider: async (req) => {
        await apps.setDnsProvider({ zone: req.zone, provider: req.provider });
        return {};
      },
    });
  };
}
