// Messages between a daemon's master and its worker processes (Node IPC channel).

export type WorkerMessage =
  /** The worker listens on its per-process socket and owns the stable symlink. */
  | { readonly type: "tako:ready"; readonly pid: number; readonly socketPath: string }
  /** The worker got SIGHUP: the master should start a successor. */
  | { readonly type: "tako:reload" }
  /** The worker needs a listening TCP socket; the master binds it once and shares the handle. */
  | { readonly type: "tako:listen"; readonly id: number; readonly host: string; readonly port: number };

export type MasterMessage =
  /** Stop serving: "replaced" when a successor took the socket, "stop" when the daemon stops. */
  | { readonly type: "tako:drain"; readonly reason: "replaced" | "stop" }
  /** Answer to tako:listen; the handle travels with the message unless `error` is set. */
  | { readonly type: "tako:listen-result"; readonly id: number; readonly error?: string };

function hasType(value: unknown): value is { type: string } {
  return (
    typeof value === "object" && value !== null && typeof (value as { type?: unknown }).type === "string"
  );
}

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return hasType(value) && ["tako:ready", "tako:reload", "tako:listen"].includes(value.type);
}

export function isMasterMessage(value: unknown): value is MasterMessage {
  return hasType(value) && ["tako:drain", "tako:listen-result"].includes(value.type);
}

/** Environment variable that tells a daemon's entry module to run as a worker. */
export const WORKER_ENV = "TAKO_DAEMON_ROLE";
