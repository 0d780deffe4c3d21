import { type DaemonName, type HostPaths, INSTALLED_DAEMONS, SOCKET_NAMES } from "@tako/daemon";
import { CertService, EdgeService, SupervisorService } from "@tako/proto";
import { createRpcChannel, createRpcClient, type RpcChannel, stableSocketPath } from "@tako/rpc";
import type { CertPort, EdgePort, Ports, SupervisorPort } from "./deploy/ports.js";

/** Long operations (a rollout, issuing certificates) get this deadline instead of the default. */
const LONG_CALL_MS = 30 * 60 * 1000;
/** A followed log stream lives at most this long before the client reconnects. */
const LOG_FOLLOW_MS = 24 * 3600 * 1000;

/** The other daemons of the host, as agentd's ports, over their Unix sockets. */
export function connectPeers(paths: HostPaths): { ports: Ports; close(): void } {
  const channels: RpcChannel[] = [];
  const channel = (daemon: DaemonName) => {
    const c = createRpcChannel(stableSocketPath(paths.runDir, SOCKET_NAMES[daemon]), { timeoutMs: 60_000 });
    channels.push(c);
    return c;
  };
  const installed = (d: DaemonName) => INSTALLED_DAEMONS.includes(d);

  let supervisor: SupervisorPort | undefined;
  if (installed("supervisor")) {
    const client = createRpcClient(SupervisorService, channel("supervisor"));
    supervisor = {
      apply: (release, signal) => client.apply({ release }, { signal, timeoutMs: LONG_CALL_MS }),
      scale: async (app, env, instances) => {
        await client.scale({ app, env, instances });
      },
      status: async (app, env) => (await client.status({ app, env })).apps,
      async *logs(req, signal) {
        for await (const r of client.logs(req, { signal, timeoutMs: LOG_FOLLOW_MS })) yield r.entries;
      },
      stop: async (app, env, purge) => ({ existed: (await client.stop({ app, env, purge })).existed }),
    };
  }
  let edge: EdgePort | undefined;
  if (installed("edge-proxy")) {
    const client = createRpcClient(EdgeService, channel("edge-proxy"));
    edge = {
      setRoutes: async (app, env, routes) => {
        await client.setRoutes({ app, env, routes: [...routes] });
      },
      removeRoutes: async (app, env) => {
        await client.removeRoutes({ app, env });
      },
    };
  }
  let certd: CertPort | undefined;
  if (installed("certd")) {
    const client = createRpcClient(CertService, channel("certd"));
    certd = {
      ensureCertificates: async (hosts, app, env) =>
        (await client.ensureCertificates({ hosts: [...hosts], app, env }, { timeoutMs: LONG_CALL_MS }))
          .certificates,
      setDnsProvider: async (req) => {
        await client.setDnsProvider(req);
      },
    };
  }
  return {
    ports: { supervisor, edge, certd },
    close: () => {
      for (const c of channels) c.close();
    },
  };
}
