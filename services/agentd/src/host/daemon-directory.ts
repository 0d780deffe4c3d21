import { hostname } from "node:os";
import {
  type DaemonName,
  type HostPaths,
  isDaemonName,
  type LauncherState,
  SOCKET_NAMES,
} from "@tako/daemon";
import { TakoError } from "@tako/errors";
import { type DaemonInfo, type ServerInfoResponse, ServingStatus } from "@tako/proto";
import { stableSocketPath } from "@tako/rpc";

// agentd's view of the daemon set on its host: who is behind each socket, and how to replace a
// daemon's process gracefully.

export interface DaemonHealth {
  readonly status: ServingStatus;
  readonly pid: number;
  readonly version: string;
  readonly uptimeMs: bigint;
  readonly detail: string;
}

export interface DaemonDirectoryDeps {
  readonly paths: HostPaths;
  /** Daemons this host runs, in start order (agentd included). */
  readonly daemons: readonly DaemonName[];
  readonly version: string;
  readonly httpPort: number;
  readonly httpsPort: number;
  /** Asks the process behind a daemon's socket for its health; rejects when none answers. */
  check(daemon: DaemonName): Promise<DaemonHealth>;
  /** agentd's own health, answered without a round trip. */
  self(): DaemonHealth;
  sendSignal(pid: number, signal: NodeJS.Signals): void;
  readLauncherState(): Promise<LauncherState | undefined>;
  sleep(ms: number): Promise<void>;
}

type ServerInfo = Omit<ServerInfoResponse, "$typeName" | "daemons"> & {
  daemons: Omit<DaemonInfo, "$typeName">[];
};

export class DaemonDirectory {
  readonly #deps: DaemonDirectoryDeps;

  constructor(deps: DaemonDirectoryDeps) {
    this.#deps = deps;
  }

  async serverInfo(): Promise<ServerInfo> {
    const deps = this.#deps;
    const launcher = await deps.readLauncherState();
    const daemons = await Promise.all(
      deps.daemons.map(async (name) => {
        const socketPath = stableSocketPath(deps.paths.runDir, SOCKET_NAMES[name]);
        try {
          const h = name === "agentd" ? deps.self() : await deps.check(name);
          return {
            name,
            socketPath,
            status: h.status,
            pid: h.pid,
            version: h.version,
            uptimeMs: h.uptimeMs,
            detail: h.detail,
          };
        } catch (err) {
          const supervised = launcher?.daemons[name];
          const detail = supervised?.detail || (err instanceof Error ? err.message : String(err));
          return {
            name,
            socketPath,
            status: ServingStatus.UNREACHABLE,
            pid: 0,
            version: "",
            uptimeMs: 0n,
            detail,
          };
        }
      }),
    );
    const self = deps.self();
    return {
      version: deps.version,
      hostname: hostname(),
      rootDir: deps.paths.root,
      pid: self.pid,
      uptimeMs: self.uptimeMs,
      daemons,
      httpPort: deps.httpPort,
      httpsPort: deps.httpsPort,
    };
  }

  /**
   * Replaces a daemon's process: SIGHUP to the process behind its socket starts a successor
   * (through that daemon's master); resolves once a new process answers on the socket.
   */
  async reload(daemon: string, timeoutMs = 35_000): Promise<{ oldPid: number; newPid: number }> {
    const deps = this.#deps;
    if (!isDaemonName(daemon) || !deps.daemons.includes(daemon)) {
      throw new TakoError(
        "UNKNOWN_DAEMON",
        `no daemon named "${daemon}" runs on this host; it runs ${deps.daemons.join(", ")}`,
        {
          metadata: { daemon },
        },
      );
    }
    let before: DaemonHealth;
    try {
      before = await deps.check(daemon);
    } catch (err) {
      throw new TakoError("DAEMON_UNREACHABLE", `${daemon} is not running, so it cannot be reloaded`, {
        metadata: { daemon },
        cause: err,
      });
    }
    deps.sendSignal(before.pid, "SIGHUP");
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await deps.sleep(50);
      const now = await deps.check(daemon).catch(() => undefined);
      if (now && now.pid !== before.pid && now.status === ServingStatus.SERVING) {
        return { oldPid: before.pid, newPid: now.pid };
      }
    }
    throw new TakoError(
      "RELOAD_FAILED",
      `${daemon} did not hand over to a new process within ${timeoutMs} ms`,
      {
        metadata: { daemon, pid: String(before.pid) },
      },
    );
  }
}
