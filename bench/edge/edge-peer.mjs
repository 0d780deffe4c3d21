// edge-proxy as a benchmark peer: the real daemon (master + workers, as the systemd unit runs
// it) under a temp root, fed by small doubles of the supervisor and certd contracts (the same
// ones its tests use) that report the shared upstream as the app's one healthy instance and the
// benchmark certificate as the default certificate. The route is pushed over edge.sock.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { REPO_ROOT } from "../../scripts/setup.mjs";

const helpers = join(REPO_ROOT, "services/edge-proxy/dist/test/helpers");
const defaultEntry = join(REPO_ROOT, "services/edge-proxy/dist/src/main.js");

/**
 * `entry`: the daemon's main.js (default: this checkout's build; another build for an A/B run);
 * `processCount`: its --processes (default $TAKO_BENCH_EDGE_PROCESSES, else 0: one per CPU).
 */
export async function startEdgePeer({
  dir,
  port,
  httpPort,
  upstreamPort,
  tls,
  launch,
  entry = defaultEntry,
  processCount,
  nodeOptions = process.env.TAKO_BENCH_EDGE_NODE_OPTIONS,
}) {
  const { FakeSupervisor } = await import(join(helpers, "fake-supervisor.js"));
  const { FakeCertd } = await import(join(helpers, "fake-certd.js"));
  const { createRpcChannel, createRpcClient } = await import("@tako/rpc");
  const { EdgeService } = await import("@tako/proto");
  const root = join(dir, `edge-root-${port}`);
  const runDir = join(root, "var/run/tako");
  await mkdir(runDir, { recursive: true });
  const supervisor = new FakeSupervisor();
  const certd = new FakeCertd();
  await supervisor.listen(join(runDir, "supervisor.sock"));
  await certd.listen(join(runDir, "certd.sock"));
  supervisor.set({
    app: "bench",
    env: "production",
    endpoints: [{ instanceId: "upstream", port: upstreamPort }],
  });
  certd.upsert({ names: ["bench.test"], certPem: tls.certPem, keyPem: tls.keyPem }, true);
  const processes = String(processCount ?? process.env.TAKO_BENCH_EDGE_PROCESSES ?? "0");
  const child = launch(
    "edge-proxy",
    {
      // TAKO_BENCH_EDGE_NODE_OPTIONS reaches every edge process (the daemon's worker inherits the
      // environment), e.g. "--perf-basic-prof" for `perf`, or "--require bench/edge/cpu-profile.cjs"
      // (--cpu-prof itself is not allowed in NODE_OPTIONS).
      env: nodeOptions ? { NODE_OPTIONS: nodeOptions } : {},
      command: process.execPath,
      args: [
        entry,
        "--root",
        root,
        "--bind-host",
        "127.0.0.1",
        "--https-port",
        String(port),
        "--http-port",
        String(httpPort),
        "--metrics-port",
        "0",
        "--processes",
        processes,
      ],
    },
    dir,
  );
  const channel = createRpcChannel(join(runDir, "edge.sock"), { timeoutMs: 30_000 });
  try {
    for (let i = 0; ; i++) {
      try {
        await createRpcClient(EdgeService, channel).setRoutes({
          app: "bench",
          env: "production",
          routes: ["bench.test"],
        });
        break;
      } catch (err) {
        if (i > 300) throw new Error(`edge-proxy did not start: ${err.message}\n${child.stderr()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    channel.close();
  }
  const stop = child.stop;
  child.stop = () => {
    stop();
    void child.exited.then(() => Promise.all([supervisor.close(), certd.close()]));
  };
  return { process: child, info: { processes: processes === "0" ? "one per CPU" : processes } };
}
