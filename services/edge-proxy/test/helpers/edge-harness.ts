import { appendFileSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { createLogger, DaemonMaster, hostPaths, SOCKET_NAMES } from "@tako/daemon";
import { daemonEntry } from "@tako/host";
import { EdgeService, HealthService } from "@tako/proto";
import { createRpcChannel, createRpcClient, type RpcChannel, stableSocketPath } from "@tako/rpc";
import { freePort, makeTempRoot } from "@tako/testkit";
import { createTestCa, type TestCa } from "./certs.js";
import { FakeCertd } from "./fake-certd.js";
import { FakeSupervisor } from "./fake-supervisor.js";

export interface EdgeHarness {
  readonly root: string;
  readonly httpsPort: number;
  readonly httpPort: number;
  readonly metricsPort: number;
  readonly master: DaemonMaster;
  readonly supervisor: FakeSupervisor;
  readonly certd: FakeCertd;
  readonly ca: TestCa;
  readonly edgeSocket: string;
  readonly edge: ReturnType<typeof createRpcClient<typeof EdgeService>>;
  /** Restarts the edge (stop every worker, start a fresh one) with the same root and ports. */
  restart(): Promise<void>;
  pid(): Promise<number>;
  logs(): Promise<string>;
  stop(): Promise<void>;
}

export interface EdgeHarnessOptions {
  /** Extra edge flags, e.g. ["--max-body-bytes", "1024"]. */
  readonly flags?: readonly string[];
  /** Names of the default certificate certd serves (default: a test name). */
  readonly defaultCertNames?: readonly string[] | null;
}

/**
 * A real edge-proxy daemon (master + worker processes, as systemd or the local host runs it)
 * under a temp root with free ports, in front of a fake supervisor and certd served on the real
 * socket paths the edge dials. Daemon output goes to <root>/edge.log.
 */
export async function startEdge(options: EdgeHarnessOptions = {}): Promise<EdgeHarness> {
  const temp = await makeTempRoot("edge");
  const paths = hostPaths(temp.root);
  await mkdir(paths.runDir, { recursive: true });
  const logFile = join(temp.root, "edge.log");
  const ca = await createTestCa();
  const supervisor = new FakeSupervisor();
  const certd = new FakeCertd();
  await supervisor.listen(stableSocketPath(paths.runDir, SOCKET_NAMES.supervisor));
  await certd.listen(stableSocketPath(paths.runDir, SOCKET_NAMES.certd));
  if (options.defaultCertNames !== null) {
    certd.upsert(await ca.issue(options.defaultCertNames ?? ["default.tako.test"]), true);
  }
  const [httpsPort, httpPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const { openSync } = await import("node:fs");
  const output = openSync(logFile, "a");
  const master = new DaemonMaster({
    name: "edge-proxy",
    entry: daemonEntry("edge-proxy"),
    args: [
      "--root",
      temp.root,
      "--bind-host",
      "127.0.0.1",
      "--https-port",
      String(httpsPort),
      "--http-port",
      String(httpPort),
      "--metrics-port",
      String(metricsPort),
      ...(options.flags ?? []),
    ],
    log: createLogger({ write: (l) => appendFileSync(logFile, l) }),
    output,
    drainTimeoutMs: 20_000,
  });
  await master.start();
  const edgeSocket = stableSocketPath(paths.runDir, SOCKET_NAMES["edge-proxy"]);
  const channels: RpcChannel[] = [];
  const channel = createRpcChannel(edgeSocket, { timeoutMs: 10_000 });
  channels.push(channel);
  return {
    root: temp.root,
    httpsPort,
    httpPort,
    metricsPort,
    master,
    supervisor,
    certd,
    ca,
    edgeSocket,
    edge: createRpcClient(EdgeService, channel),
    async restart() {
      await master.stop({ deadlineMs: 10_000 });
      await master.start();
    },
    async pid() {
      const c = createRpcChannel(edgeSocket, { timeoutMs: 5_000 });
      try {
        return (await createRpcClient(HealthService, c).check({})).pid;
      } finally {
        c.close();
      }
    },
    logs: () => readFile(logFile, "utf8"),
    async stop() {
      for (const c of channels) c.close();
      await master.stop({ deadlineMs: 10_000, closeListeners: true });
      await supervisor.close();
      await certd.close();
      await ca.cleanup();
      await temp.cleanup();
    },
  };
}
