import { existsSync, realpathSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type DaemonDefinition,
  type DaemonName,
  INSTALLED_DAEMONS,
  processStartTimeSync,
  readLauncherState,
  SOCKET_NAMES,
} from "@tako/daemon";
import { TakoError } from "@tako/errors";
import { HealthService, ServingStatus } from "@tako/proto";
import { createRpcChannel, createRpcClient, type RpcChannel, stableSocketPath } from "@tako/rpc";
import { AppManager } from "./apps/app-manager.js";
import { AGENTD_FLAGS } from "./config.js";
import { DeployEngine } from "./deploy/deploy-engine.js";
import { DaemonDirectory } from "./host/daemon-directory.js";
import { connectPeers } from "./peers.js";
import { agentServiceRoutes } from "./rpc/agent-service.js";
import { loadOrCreateKey, secretBox } from "./store/secret-box.js";
import { StateStore } from "./store/state-store.js";

const startedAt = Date.now();

/**
 * The host's own tako.sh SDK, linked into every release as node_modules/tako.sh: the nearest
 * node_modules/tako.sh above this module (the repository's workspace link, or the installed
 * bundle's copy), by its real path.
 */
function findSdkDir(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", "tako.sh");
    if (existsSync(join(candidate, "package.json"))) return realpathSync(candidate);
  }
  throw new TakoError("INTERNAL", "this host's tako.sh SDK is missing from the Tako installation", {
    hint: "Reinstall the host with `tako servers add --install`.",
  });
}

/** agentd: the management API on tako.sock (root and the `tako` group only). */
export const agentd: DaemonDefinition<typeof AGENTD_FLAGS> = {
  name: "agentd",
  flags: AGENTD_FLAGS,
  socketMode: 0o660,
  socketGroup: "tako",
  // A deploy or rollback in flight finishes on the old process during a reload.
  drainDeadlineMs: 15 * 60 * 1000,
  // A followed log stream is ended so the client reconnects to the successor.
  cutOnDrain: (method) => method.name.startsWith("Watch") || method.name === "Logs",
  create(ctx) {
    const { config, paths, log } = ctx;
    let store: StateStore | undefined;
    let sdkDir: string | undefined;
    const peers = connectPeers(paths);
    const healthChannels = new Map<DaemonName, RpcChannel>();
    const channelTo = (daemon: DaemonName) => {
      let channel = healthChannels.get(daemon);
      if (!channel) {
        channel = createRpcChannel(stableSocketPath(paths.runDir, SOCKET_NAMES[daemon]), {
          timeoutMs: 2_000,
          retries: 2,
        });
        healthChannels.set(daemon, channel);
      }
      return channel;
    };
    const owner = { pid: process.pid, startTime: processStartTimeSync(process.pid) ?? "" };
    // The store opens in start(); domain objects built now reach it through this getter.
    const openStore = (): StateStore => {
      if (!store) throw new TakoError("UNAVAILABLE", "agentd is starting");
      return store;
    };
    const engine = new DeployEngine({
      paths,
      log,
      ports: peers.ports,
      get store() {
        return openStore();
      },
      get sdkDir() {
        sdkDir ??= findSdkDir();
        return sdkDir;
      },
      limits: {
        installTimeoutMs: config.installTimeoutMs,
        releaseCommandTimeoutMs: config.releaseCommandTimeoutMs,
        keepReleases: config.keepReleases,
      },
      lockOwner: owner,
      isAlive: (o) => processStartTimeSync(o.pid) === o.startTime,
      httpsPort: config.httpsPort,
    });
    const apps = new AppManager({
      paths,
      log,
      ports: peers.ports,
      get store() {
        return openStore();
      },
      engine,
    });
    const directory = new DaemonDirectory({
      paths,
      daemons: INSTALLED_DAEMONS,
      version: ctx.version,
      httpPort: config.httpPort,
      httpsPort: config.httpsPort,
      check: (daemon) => createRpcClient(HealthService, channelTo(daemon)).check({}),
      self: () => ({
        status: ServingStatus.SERVING,
        pid: process.pid,
        version: ctx.version,
        uptimeMs: BigInt(Date.now() - startedAt),
        detail: "",
      }),
      sendSignal: (pid, signal) => process.kill(pid, signal),
      readLauncherState: () => readLauncherState(paths.runDir),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    });
    return {
      routes: agentServiceRoutes({ directory, engine, apps }),
      async start() {
        await mkdir(paths.stateDir, { recursive: true, mode: 0o700 });
        await mkdir(paths.appsDir, { recursive: true, mode: 0o755 });
        const key = await loadOrCreateKey(join(paths.stateDir, "agentd.key"));
        store = new StateStore(join(paths.stateDir, "agentd.db"), secretBox(key));
      },
      async stop() {
        peers.close();
        for (const channel of healthChannels.values()) channel.close();
        store?.close();
      },
    };
  },
};
