import { appendFileSync } from "node:fs";
import { mkdir, open, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { createLogger, type DaemonName, type HostPaths, SOCKET_NAMES } from "@tako/daemon";
import { type CertdHostOptions, LocalHost, type RestartPolicyOptions } from "@tako/host";
import { HealthService } from "@tako/proto";
import { createRpcChannel, createRpcClient, stableSocketPath } from "@tako/rpc";
import { freePort } from "./processes.js";
import { makeTempRoot } from "./temp-root.js";

export interface TestHost {
  readonly host: LocalHost;
  readonly root: string;
  readonly paths: HostPaths;
  readonly httpPort: number;
  readonly httpsPort: number;
  /** The edge's Prometheus port on 127.0.0.1. */
  readonly metricsPort: number;
  /** Stable socket path of a daemon. */
  socket(daemon: DaemonName): string;
  /** PID behind a daemon's socket right now, asked over the socket. */
  pidOf(daemon: DaemonName): Promise<number>;
  /** Everything the daemons wrote (stdout and stderr), for diagnosing a failure. */
  readonly logFile: string;
  readonly readLogs: () => Promise<string>;
  /** Stops every daemon and removes the root. */
  stop(): Promise<void>;
}

export interface StartTestHostOptions {
  readonly daemons?: readonly DaemonName[];
  readonly restart?: RestartPolicyOptions;
  /** Daemon output goes to <root>/var/log/tako/daemons.log, and also to stderr when TAKO_TEST_LOGS=1. */
  readonly logs?: boolean;
  /** The edge's HTTP port (default: a free one), e.g. the port pebble validates HTTP-01 on. */
  readonly httpPort?: number;
  /** certd's ACME and renewal settings, e.g. pointing it at a pebble harness. */
  readonly certd?: CertdHostOptions;
}

/** A real local host (real daemon processes and sockets) under a fresh temp root, in this process's care. */
export async function startTestHost(options: StartTestHostOptions = {}): Promise<TestHost> {
  const temp = await makeTempRoot("host");
  const [httpPort, httpsPort, metricsPort] = [
    options.httpPort ?? (await freePort()),
    await freePort(),
    await freePort(),
  ];
  const showLogs = options.logs ?? process.env.TAKO_TEST_LOGS === "1";
  const logFile = join(temp.root, "var/log/tako/daemons.log");
  await mkdir(dirname(logFile), { recursive: true });
  const output = await open(logFile, "a");
  const log = createLogger({
    write: (l) => (showLogs ? process.stderr.write(l) : appendFileSync(logFile, l)),
  });
  const host = new LocalHost({
    root: temp.root,
    httpPort,
    httpsPort,
    metricsPort,
    log,
    ...(options.daemons ? { daemons: options.daemons } : {}),
    ...(options.restart ? { restart: options.restart } : {}),
    ...(options.certd ? { certd: options.certd } : {}),
    stopDeadlineMs: 15_000,
    daemonOutput: showLogs ? "inherit" : output.fd,
  });
  try {
    await host.start();
  } catch (err) {
    const logs = await readFile(logFile, "utf8").catch(() => "");
    await output.close();
    await temp.cleanup();
    throw new Error(`the test host did not start: ${(err as Error).message}\n${logs}`, { cause: err });
  }
  const socket = (daemon: DaemonName) => stableSocketPath(host.paths.runDir, SOCKET_NAMES[daemon]);
  return {
    host,
    root: temp.root,
    paths: host.paths,
    httpPort,
    httpsPort,
    metricsPort,
    socket,
    async pidOf(daemon) {
      const channel = createRpcChannel(socket(daemon), { timeoutMs: 2_000 });
      try {
        return (await createRpcClient(HealthService, channel).check({})).pid;
      } finally {
        channel.close();
      }
    },
    logFile,
    readLogs: () => readFile(logFile, "utf8"),
    async stop() {
      await host.stop();
      await output.close().catch(() => undefined);
      await temp.cleanup();
    },
  };
}
