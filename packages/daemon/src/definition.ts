import type { DescMethod } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import type { ServingStatus } from "@tako/proto";
import type { DaemonConfig, FlagSpecs } from "./flags.js";
import type { Logger } from "./logger.js";
import type { HostPaths } from "./paths.js";
import type { DaemonName } from "./registry.js";

export interface ListenTcpOptions {
  readonly host: string;
  readonly port: number;
}

/** What a daemon's composition root receives. */
export interface DaemonContext<C> {
  readonly name: DaemonName;
  readonly config: C;
  readonly paths: HostPaths;
  readonly log: Logger;
  readonly version: string;
  /**
   * A listening TCP socket owned by the daemon's master, shared with every worker generation:
   * a reload never closes it, so no connection is refused. Pass it to `server.listen(handle)`.
   */
  listenTcp(options: ListenTcpOptions): Promise<object>;
}

/**
 * Why a worker generation is stopping: "replaced" by a successor that already owns the socket
 * (a reload), "stop" (the master stops the daemon), "signal" (SIGTERM/SIGINT to the worker itself)
 * or "orphaned" (its master went away). A daemon that keeps state outside its process (the
 * supervisor's app processes) hands it over on "replaced" and tears it down otherwise.
 */
export type StopReason = "replaced" | "stop" | "signal" | "orphaned";

export interface ServiceHealth {
  readonly status: ServingStatus;
  readonly detail?: string;
}

/**
 * A running daemon's domain: construct without effects, `start` resolves once it can serve
 * (the socket is swapped to it only then), `stop` is idempotent and finishes by its deadline.
 */
export interface DaemonService {
  routes(router: ConnectRouter): void;
  start(signal: AbortSignal): Promise<void>;
  stop(deadlineMs: number, reason: StopReason): Promise<void>;
  /** Health beyond "the process answers"; default SERVING while serving. */
  health?(): ServiceHealth;
}

export interface DaemonDefinition<S extends FlagSpecs> {
  readonly name: DaemonName;
  /** Flags beyond the common ones (--root). */
  readonly flags: S;
  /** Composition root. */
  create(ctx: DaemonContext<DaemonConfig<S>>): DaemonService;
  /** Socket file mode (default 0o600) and owning group name, applied when it exists. */
  readonly socketMode?: number;
  readonly socketGroup?: string;
  /** How long in-flight calls may take to finish once draining starts (default 30 s). */
  readonly drainDeadlineMs?: number;
  /** Streaming procedures ended at drain so clients reconnect (default: names starting with "Watch"). */
  readonly cutOnDrain?: (method: DescMethod) => boolean;
}
