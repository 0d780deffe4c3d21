// Entry of an edge helper process: accepts and serves client connections on the public sockets
// (handles from the primary), with a replica of the primary's state. Started by HelperPool only.
import type { Server } from "node:net";
import { createLogger, hostPaths, SOCKET_NAMES } from "@tako/daemon";
import { SupervisorService } from "@tako/proto";
import { createRpcChannel, createRpcClient, stableSocketPath } from "@tako/rpc";
import { EdgeRuntime } from "../edge-runtime.js";
import { type FromHelper, isToHelper, type ToHelper } from "./messages.js";

const log = createLogger({ fields: { daemon: "edge-proxy", pid: process.pid, role: "helper" } });
let runtime: EdgeRuntime | undefined;
let draining = false;

const reply = (message: FromHelper) => {
  if (process.connected) process.send?.(message);
};

function drain(deadlineMs: number): void {
  if (draining) return;
  draining = true;
  void (async () => {
    await runtime?.drain(deadlineMs);
    process.exit(0);
  })();
}

process.on("message", (msg: unknown, handle: unknown) => {
  if (!isToHelper(msg)) return;
  const m = msg as ToHelper;
  switch (m.type) {
    case "edge:accept":
      if (runtime && handle && !draining)
        void runtime.listeners.accept(m.listener, [handle as object]).catch((err: unknown) => {
          log.error("edge helper cannot accept on a public socket", { error: err });
          process.exit(1);
        });
      else (handle as Server | undefined)?.close();
      break;
    case "edge:init":
      void init(m).catch((err: unknown) => {
        log.error("edge helper failed to start", { error: err });
        process.exit(1);
      });
      break;
    case "edge:routes":
      runtime?.registry.load(m.routes);
      break;
    case "edge:endpoints":
      runtime?.endpoints.apply(m.update);
      break;
    case "edge:certificates":
      runtime?.certificates.apply(m.update);
      break;
    case "edge:challenges":
      runtime?.challenges.apply(m.update);
      break;
    case "edge:metrics":
      if (runtime) reply({ type: "edge:metrics", id: m.id, snapshot: runtime.metrics.snapshot() });
      break;
    case "edge:drain":
      drain(m.deadlineMs);
      break;
  }
});
// The primary is gone (crashed or killed): finish what is in flight, then exit.
process.on("disconnect", () => drain(30_000));
process.on("SIGTERM", () => drain(30_000));
process.on("uncaughtException", (err) => {
  log.error("uncaught exception", { error: err });
  process.exit(1);
});

async function init(m: Extract<ToHelper, { type: "edge:init" }>): Promise<void> {
  const paths = hostPaths(m.config.root);
  // A helper wakes apps itself (one call per cold start, as the primary does); state arrives by IPC.
  const channel = createRpcChannel(stableSocketPath(paths.runDir, SOCKET_NAMES.supervisor), { timeoutMs: 0 });
  const supervisor = createRpcClient(SupervisorService, channel);
  runtime = new EdgeRuntime({
    config: m.config,
    log,
    processes: m.processes,
    ticketKeys: Buffer.from(m.ticketKeys, "base64"),
    saveRoutes: async () => {
      throw new Error("an edge helper never writes routes");
    },
    wake: async (app, env, signal) => {
      const res = await supervisor.wake({ app, env }, { signal });
      if (!res.endpoint) throw new Error("the supervisor woke the app but reported no endpoint");
      return { instanceId: res.endpoint.instanceId, host: res.endpoint.host, port: res.endpoint.port };
    },
  });
  runtime.registry.load(m.routes);
  runtime.endpoints.apply(m.endpoints);
  runtime.certificates.apply(m.certificates);
  runtime.challenges.apply(m.challenges);
  await runtime.endpoints.settled();
  reply({ type: "edge:ready" });
}
