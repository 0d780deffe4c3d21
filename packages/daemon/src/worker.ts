import { mkdir, readFile, unlink } from "node:fs/promises";
import { create } from "@bufbuild/protobuf";
import { TakoError } from "@tako/errors";
import { CheckResponseSchema, HealthService, ServingStatus } from "@tako/proto";
import {
  processSocketPath,
  RpcServer,
  readSymlinkTarget,
  reapStaleSockets,
  stableSocketPath,
  swapSymlink,
} from "@tako/rpc";
import type {
  DaemonContext,
  DaemonDefinition,
  DaemonService,
  ListenTcpOptions,
  StopReason,
} from "./definition.js";
import { COMMON_FLAGS, type DaemonConfig, type FlagSpecs, parseFlags } from "./flags.js";
import { isMasterMessage, type WorkerMessage } from "./ipc.js";
import { createLogger } from "./logger.js";
import { hostPaths } from "./paths.js";
import { SOCKET_NAMES } from "./registry.js";
import { TAKO_VERSION } from "./version.js";

/** Exit code for a configuration error: restarting cannot help (sysexits EX_CONFIG). */
export const EXIT_CONFIG = 78;

type Phase = "starting" | "serving" | "draining";

/**
 * Runs one worker generation of a daemon: parse config, start the domain, listen on
 * `<name>.<pid>.sock`, swap `<name>.sock` to it, tell the master, and serve until told to drain.
 * This module owns the worker's signals: the first SIGTERM/SIGINT drains, a second forces exit;
 * SIGHUP asks the master for a successor. The worker also drains when its master goes away.
 */
export async function runWorker<S extends FlagSpecs>(
  definition: DaemonDefinition<S>,
  argv: readonly string[],
): Promise<void> {
  const startedAt = Date.now();
  const baseLog = createLogger({ fields: { daemon: definition.name, pid: process.pid } });
  const specs = { ...COMMON_FLAGS, ...definition.flags };
  let config: DaemonConfig<S>;
  try {
    config = parseFlags(definition.name, argv, specs) as DaemonConfig<S>;
  } catch (err) {
    baseLog.error("invalid configuration", { error: (err as Error).message });
    process.exit(EXIT_CONFIG);
  }
  const log = baseLog;
  const paths = hostPaths(config.root);
  const socketName = SOCKET_NAMES[definition.name];
  const stablePath = stableSocketPath(paths.runDir, socketName);
  const ownPath = processSocketPath(paths.runDir, socketName, process.pid);
  const send = (msg: WorkerMessage) => {
    if (process.connected) process.send?.(msg);
  };

  let phase: Phase = "starting";
  const pendingListens = new Map<
    number,
    { resolve: (handle: object) => void; reject: (err: Error) => void }
  >();
  let nextListenId = 1;

  const ctx: DaemonContext<DaemonConfig<S>> = {
    name: definition.name,
    config,
    paths,
    log,
    version: TAKO_VERSION,
    listenTcp: (options: ListenTcpOptions) =>
      new Promise<object>((resolve, reject) => {
        if (!process.connected) {
          reject(new TakoError("DAEMON_START_FAILED", "listenTcp needs a master process"));
          return;
        }
        const id = nextListenId++;
        pendingListens.set(id, { resolve, reject });
        send({ type: "tako:listen", id, host: options.host, port: options.port });
      }),
  };

  // The composition root has no effects, so it is built before the server that routes to it.
  const service: DaemonService = definition.create(ctx);
  const server = new RpcServer({
    log,
    ...(definition.cutOnDrain ? { cutOnDrain: definition.cutOnDrain } : {}),
    routes: (router) => {
      service.routes(router);
      router.service(HealthService, {
        check: () => {
          const own = service.health?.();
          const status =
            phase === "starting"
              ? ServingStatus.STARTING
              : phase === "draining"
                ? ServingStatus.DRAINING
                : (own?.status ?? ServingStatus.SERVING);
          return create(CheckResponseSchema, {
            daemon: definition.name,
            status,
            pid: process.pid,
            version: TAKO_VERSION,
            uptimeMs: BigInt(Date.now() - startedAt),
            socketPath: ownPath,
            detail: own?.detail ?? "",
          });
        },
      });
    },
  });

  let draining: Promise<void> | undefined;
  const lifetime = new AbortController();
  const drain = (reason: StopReason): Promise<void> => {
    if (draining) return draining;
    phase = "draining";
    const deadlineMs = definition.drainDeadlineMs ?? 30_000;
    log.info("draining", { reason, inflight: server.inflight });
    draining = (async () => {
      // Stopping for good (not replaced): take the stable name away so clients fail fast instead
      // of connecting to a socket that is about to close. A successor renamed over it already.
      if (reason !== "replaced" && (await readSymlinkTarget(stablePath)) === ownPath) {
        await unlink(stablePath).catch(() => undefined);
      }
      await server.drain({ graceMs: reason === "replaced" ? 500 : 0, deadlineMs });
      lifetime.abort();
      await service.stop(deadlineMs, reason);
      log.info("stopped", { reason });
    })();
    return draining;
  };
  const exitAfter = (p: Promise<void>) => {
    p.then(
      () => process.exit(0),
      (err: unknown) => {
        log.error("drain failed", { error: err });
        process.exit(1);
      },
    );
  };

  let terminations = 0;
  const onTerminate = (signal: NodeJS.Signals) => {
    terminations++;
    if (terminations > 1) {
      log.warn("forced exit", { signal });
      process.exit(1);
    }
    exitAfter(drain("signal"));
  };
  process.on("SIGTERM", onTerminate);
  process.on("SIGINT", onTerminate);
  process.on("SIGHUP", () => {
    if (!process.connected) {
      log.warn("reload requested but there is no master to start a successor");
      return;
    }
    log.info("reload requested", { by: "SIGHUP" });
    send({ type: "tako:reload" });
  });
  process.on("message", (msg: unknown, handle: unknown) => {
    if (!isMasterMessage(msg)) return;
    switch (msg.type) {
      case "tako:drain":
        exitAfter(drain(msg.reason));
        break;
      case "tako:listen-result": {
        const pending = pendingListens.get(msg.id);
        pendingListens.delete(msg.id);
        if (!pending) break;
        if (msg.error !== undefined || handle === undefined) {
          pending.reject(new TakoError("DAEMON_START_FAILED", msg.error ?? "no listening socket received"));
        } else pending.resolve(handle as object);
        break;
      }
    }
  });
  process.on("disconnect", () => {
    if (phase !== "draining") exitAfter(drain("orphaned"));
  });
  process.on("uncaughtException", (err) => {
    log.error("uncaught exception", { error: err });
    process.exit(1);
  });
  process.on("unhandledRejection", (err) => {
    log.error("unhandled rejection", { error: err });
    process.exit(1);
  });

  try {
    await mkdir(paths.runDir, { recursive: true, mode: 0o755 });
    const reaped = await reapStaleSockets(paths.runDir, socketName);
    if (reaped.length > 0) log.info("removed stale sockets", { count: reaped.length });
    await service.start(lifetime.signal);
    const gid = definition.socketGroup ? await groupId(definition.socketGroup) : undefined;
    await server.listen(ownPath, {
      mode: definition.socketMode ?? 0o600,
      ...(gid === undefined ? {} : { gid }),
    });
    await swapSymlink(stablePath, ownPath);
    if (phase === "starting") phase = "serving";
    log.info("serving", { socket: stablePath, startupMs: Date.now() - startedAt });
    send({ type: "tako:ready", pid: process.pid, socketPath: ownPath });
  } catch (err) {
    log.error("start failed", { error: err });
    await server.close().catch(() => undefined);
    process.exit(TakoError.is(err, "CONFIG_INVALID") ? EXIT_CONFIG : 1);
  }
}

/** gid of a group from /etc/group when running as root and the group exists; else undefined. */
async function groupId(name: string): Promise<number | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const text = await readFile("/etc/group", "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    const [group, , gid] = line.split(":");
    if (group === name && gid !== undefined) return Number(gid);
  }
  return undefined;
}
