import { randomBytes } from "node:crypto";
import { watch } from "node:fs";
import { mkdir } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { dirname } from "node:path";
import { type DaemonDefinition, SOCKET_NAMES } from "@tako/daemon";
import { ServingStatus, SupervisorService } from "@tako/proto";
import { createRpcChannel, createRpcClient, probeSocket, stableSocketPath } from "@tako/rpc";
import { HelperPool } from "./cluster/helper-pool.js";
import { StateMirror } from "./cluster/state-mirror.js";
import { EDGE_FLAGS } from "./config.js";
import { EdgeRuntime } from "./edge-runtime.js";
import { WatchFeeds } from "./feeds/watch-feeds.js";
import { mergeSnapshots, renderMetrics } from "./metrics/edge-metrics.js";
import { MetricsServer } from "./metrics/metrics-server.js";
import { edgeServiceRoutes } from "./rpc/edge-service.js";
import { RouteStore } from "./store/route-store.js";

/** How long start waits for the first snapshots of the supervisor and certd (when they run). */
const SNAPSHOT_WAIT_MS = 5_000;

/**
 * Descriptors each edge process accepts on per public socket (each a handle from the master
 * for the same socket). libuv accepts one connection per handle per event-loop turn, see
 * EdgeListeners.accept. Measured (bench/edge, 500 connections opened at once under load, one
 * process): with one handle the last connections waited ≈6 s to be accepted. The price is a few
 * accept calls that find nothing when a lone connection arrives (every handle is woken).
 */
const ACCEPT_HANDLES = 8;

/**
 * edge-proxy: the public HTTPS edge. Control API on edge.sock (routes from agentd), live state
 * from the supervisor's endpoint stream and certd's certificate and challenge streams, traffic on
 * the public ports (listening sockets owned by the daemon's master).
 */
export const edgeProxy: DaemonDefinition<typeof EDGE_FLAGS> = {
  name: "edge-proxy",
  flags: EDGE_FLAGS,
  create(ctx) {
    const { config, log, paths } = ctx;
    const store = new RouteStore(paths.stateDir);
    const supervisorSocket = stableSocketPath(paths.runDir, SOCKET_NAMES.supervisor);
    const certdSocket = stableSocketPath(paths.runDir, SOCKET_NAMES.certd);
    const wakeChannel = createRpcChannel(supervisorSocket, { timeoutMs: 0 });
    const supervisor = createRpcClient(SupervisorService, wakeChannel);
    // One process per CPU by default: this one (which owns edge.sock and the watches) plus
    // helpers that serve traffic on the same sockets with a replica of its state.
    const processes = config.processes === 0 ? availableParallelism() : config.processes;
    const mirror = new StateMirror();
    const ticketKeys = randomBytes(48);
    let pool: HelperPool | undefined;
    const runtime: EdgeRuntime = new EdgeRuntime({
      config,
      log,
      processes,
      ticketKeys,
      onRoutesChange: () => pool?.broadcast({ type: "edge:routes", routes: runtime.registry.snapshot() }),
      saveRoutes: (routes) => store.save(routes),
      wake: async (app, env, signal) => {
        const res = await supervisor.wake({ app, env }, { signal });
        if (!res.endpoint) throw new Error("the supervisor woke the app but reported no endpoint");
        return { instanceId: res.endpoint.instanceId, host: res.endpoint.host, port: res.endpoint.port };
      },
    });
    const feeds = new WatchFeeds({
      supervisorSocket,
      certdSocket,
      log,
      onEndpoints: (update) => {
        mirror.endpoints(update);
        runtime.endpoints.apply(update);
        pool?.broadcast({ type: "edge:endpoints", update });
      },
      onCertificates: (update) => {
        mirror.certificates(update);
        runtime.certificates.apply(update);
        pool?.broadcast({ type: "edge:certificates", update });
      },
      onChallenges: (update) => {
        mirror.challenges(update);
        runtime.challenges.apply(update);
        pool?.broadcast({ type: "edge:challenges", update });
      },
    });
    const metricsServer = new MetricsServer(async () => {
      const helpers = pool ? await pool.metrics() : [];
      return renderMetrics(
        mergeSnapshots([runtime.metrics.snapshot(), ...helpers]),
        runtime.instanceGauges(),
      );
    });
    const stopWatching = new AbortController();

    /**
     * Another generation of the edge may write the routes file (a SetRoutes that reached the
     * predecessor during a reload's grace period): follow the file, not only our own writes.
     */
    const followRoutesFile = async () => {
      await mkdir(dirname(store.path), { recursive: true, mode: 0o750 });
      let timer: NodeJS.Timeout | undefined;
      const watcher = watch(dirname(store.path), { signal: stopWatching.signal }, () => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          store.load().then(
            (stored) => {
              if (JSON.stringify(stored) !== JSON.stringify(runtime.registry.snapshot())) {
                log.info("routes changed on disk; reloading them");
                runtime.registry.load(stored);
              }
            },
            (err: unknown) => log.warn("cannot reload the routes file", { error: err }),
          );
        }, 50);
      });
      watcher.on("error", () => undefined);
    };

    return {
      routes: edgeServiceRoutes(runtime.registry),
      async start(signal) {
        runtime.registry.load(await store.load());
        await followRoutesFile();
        feeds.start(signal);
        // Serve with the supervisor's and certd's state when they run: a reload must not answer
        // 503 for a moment because the successor has not heard of any instance yet.
        const deadline = Date.now() + SNAPSHOT_WAIT_MS;
        if ((await probeSocket(supervisorSocket)) === "listening")
          await until(() => runtime.endpoints.ready, deadline);
        if ((await probeSocket(certdSocket)) === "listening")
          await until(() => runtime.certificates.ready, deadline);
        await runtime.endpoints.settled();
        const handles = (port: number) =>
          Promise.all(
            Array.from({ length: ACCEPT_HANDLES }, () => ctx.listenTcp({ host: config.bindHost, port })),
          );
        const [httpsHandles, httpHandles] = await Promise.all([
          handles(config.httpsPort),
          handles(config.httpPort),
        ]);
        if (processes > 1) {
          pool = new HelperPool({
            count: processes - 1,
            config,
            processes,
            ticketKeys,
            log,
            initial: () => ({ routes: runtime.registry.snapshot(), ...mirror.snapshot() }),
            handles: { https: httpsHandles, http: httpHandles },
          });
          await pool.start();
        }
        await runtime.listeners.accept("https", httpsHandles);
        await runtime.listeners.accept("http", httpHandles);
        if (config.metricsPort !== 0) {
          await metricsServer.listen(await ctx.listenTcp({ host: "127.0.0.1", port: config.metricsPort }));
        }
        log.info("edge listening", {
          https: `${config.bindHost}:${config.httpsPort}`,
          http: `${config.bindHost}:${config.httpPort}`,
          metrics: config.metricsPort === 0 ? "off" : `127.0.0.1:${config.metricsPort}`,
          processes,
          routes: runtime.registry.table.routes.length,
          certificates: runtime.certificates.size,
        });
      },
      async stop(deadlineMs) {
        stopWatching.abort();
        metricsServer.close();
        await Promise.all([runtime.drain(deadlineMs), pool?.drain(deadlineMs)]);
        await feeds.stop();
        wakeChannel.close();
      },
      health() {
        const missing = (["endpoints", "certificates", "challenges"] as const).filter(
          (f) => !feeds.connected.has(f),
        );
        return {
          status: ServingStatus.SERVING,
          detail: missing.length === 0 ? "" : `waiting for watch streams: ${missing.join(", ")}`,
        };
      },
    };
  },
};

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

async function until(condition: () => boolean, deadline: number): Promise<void> {
  while (!condition() && Date.now() < deadline) await sleep(20);
}
