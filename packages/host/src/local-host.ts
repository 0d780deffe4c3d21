import { mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import {
  DaemonMaster,
  type DaemonName,
  describeExit,
  type HostPaths,
  hostPaths,
  INSTALLED_DAEMONS,
  type Logger,
  launcherPidPath,
  launcherStatePath,
  processStartTime,
  SOCKET_NAMES,
  type SupervisedDaemon,
  writeLauncherState,
} from "@tako/daemon";
import { TakoError } from "@tako/errors";
import { isErrno, probeSocket, stableSocketPath } from "@tako/rpc";
import { RestartPolicy, type RestartPolicyOptions } from "./restart-policy.js";

export interface LocalHostOptions {
  /** Absolute root directory; every path of the host hangs off it. */
  readonly root: string;
  readonly httpPort: number;
  readonly httpsPort: number;
  /** Prometheus port of the edge on 127.0.0.1; 0 (the default) disables it. */
  readonly metricsPort?: number;
  /** Address the edge's public listeners bind; default 127.0.0.1 (a local host is not public). */
  readonly bindHost?: string;
  readonly log: Logger;
  /** Daemons to run, in start order; default: every daemon this build ships. */
  readonly daemons?: readonly DaemonName[];
  readonly restart?: RestartPolicyOptions;
  /** Deadline for each daemon's drain on stop. Default 60 s. */
  readonly stopDeadlineMs?: number;
  /** Where daemons' stdout/stderr go: inherited (default) or an open file descriptor. */
  readonly daemonOutput?: "inherit" | number;
  /** certd's ACME and renewal settings (its defaults: Let's Encrypt, renew within 30 days). */
  readonly certd?: CertdHostOptions;
}

/** certd flags a host may set; each maps to `--kebab-case-name` (see services/certd/src/config.ts). */
export interface CertdHostOptions {
  readonly acmeDirectoryUrl?: string;
  /** PEM file of a CA to trust for the ACME server's own TLS (pebble's certificate in tests). */
  readonly acmeCaFile?: string;
  readonly acmeEmail?: string;
  /** Self-signed certificates only. */
  readonly noAcme?: boolean;
  readonly renewBeforeMs?: number;
  readonly renewalCheckIntervalMs?: number;
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
  readonly acmeOrderTimeoutMs?: number;
  readonly dnsPropagationTimeoutMs?: number;
  /** host:port to check DNS-01 propagation on. */
  readonly dnsCheckServer?: string;
  readonly cloudflareApiUrl?: string;
}

function certdFlags(options: CertdHostOptions = {}): string[] {
  const flags: string[] = [];
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || value === false) continue;
    const flag = `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    flags.push(...(value === true ? [flag] : [flag, String(value)]));
  }
  return flags;
}

interface Supervised {
  readonly master: DaemonMaster;
  readonly policy: RestartPolicy;
  state: SupervisedDaemon;
  timer: NodeJS.Timeout | undefined;
}

/** Where a daemon's entry module is: every daemon is the package @tako/<name>, entry "./main". */
export function daemonEntry(name: DaemonName): string {
  return fileURLToPath(import.meta.resolve(`@tako/${name}/main`));
}

/** Command-line flags the local host gives each daemon. */
export function daemonArgs(
  name: DaemonName,
  options: Pick<LocalHostOptions, "root" | "httpPort" | "httpsPort" | "metricsPort" | "bindHost" | "certd">,
): string[] {
  const root = ["--root", options.root];
  const ports = ["--http-port", String(options.httpPort), "--https-port", String(options.httpsPort)];
  switch (name) {
    case "agentd":
      return [...root, ...ports];
    case "edge-proxy":
      return [
        ...root,
        ...ports,
        "--metrics-port",
        String(options.metricsPort ?? 0),
        "--bind-host",
        options.bindHost ?? "127.0.0.1",
      ];
    case "certd":
      // The edge's HTTP port: certd checks that the edge serves an HTTP-01 token before the CA looks.
      return [...root, "--http-port", String(options.httpPort), ...certdFlags(options.certd)];
    case "supervisor":
    case "workflowd":
    case "channeld":
      return root;
  }
}

/**
 * The local host: the whole daemon set of one root directory, unprivileged, in this process's
 * care. Each daemon runs under a DaemonMaster hosted here; a daemon that crashes is restarted
 * with backoff, and a crash loop stops being restarted with the reason recorded in
 * launcher.json (which `tako server status` and agentd read).
 */
export class LocalHost {
  readonly paths: HostPaths;
  readonly #options: LocalHostOptions;
  readonly #log: Logger;
  readonly #daemons = new Map<DaemonName, Supervised>();
  readonly #startedAt = Date.now();
  #stopping = false;
  #stopped: Promise<void> | undefined;

  constructor(options: LocalHostOptions) {
    this.#options = options;
    this.paths = hostPaths(options.root);
    this.#log = options.log.child({ role: "launcher", root: this.paths.root });
  }

  /** Daemons of this host with the PID of the worker serving each (undefined while down). */
  pids(): Map<DaemonName, number | undefined> {
    return new Map([...this.#daemons].map(([name, s]) => [name, s.master.pid]));
  }

  async start(): Promise<void> {
    const { paths } = this;
    await mkdir(paths.runDir, { recursive: true, mode: 0o755 });
    await mkdir(paths.logDir, { recursive: true });
    await this.#claimRoot();
    const names = this.#options.daemons ?? INSTALLED_DAEMONS;
    try {
      for (const name of names) {
        const master = new DaemonMaster({
          name,
          entry: daemonEntry(name),
          args: daemonArgs(name, { ...this.#options, root: paths.root }),
          log: this.#options.log,
          ...(this.#options.daemonOutput === undefined ? {} : { output: this.#options.daemonOutput }),
        });
        const supervised: Supervised = {
          master,
          policy: new RestartPolicy(this.#options.restart),
          state: { state: "starting", restarts: 0, detail: "" },
          timer: undefined,
        };
        this.#daemons.set(name, supervised);
        master.on("crash", (exit) => this.#onCrash(name, supervised, describeExit(exit)));
        await this.#writeState();
        await master.start();
        supervised.state = { ...supervised.state, state: "running" };
      }
      await this.#writeState();
      this.#log.info("local host started", { daemons: names.join(",") });
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  /** Stops every daemon, last started first, each draining by the deadline. Idempotent. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      this.#stopping = true;
      const deadlineMs = this.#options.stopDeadlineMs ?? 60_000;
      for (const [name, s] of [...this.#daemons].reverse()) {
        clearTimeout(s.timer);
        await s.master.stop({ deadlineMs, closeListeners: true });
        s.state = { ...s.state, state: "stopped", detail: "" };
        this.#log.info("daemon stopped", { daemon: name });
      }
      await unlink(launcherStatePath(this.paths.runDir)).catch(() => undefined);
      await unlink(launcherPidPath(this.paths.runDir)).catch(() => undefined);
      this.#log.info("local host stopped");
    })();
    return this.#stopped;
  }

  /** Kills every daemon process at once (a second Ctrl-C). */
  kill(): void {
    this.#stopping = true;
    for (const s of this.#daemons.values()) {
      clearTimeout(s.timer);
      s.master.kill();
    }
  }

  #onCrash(name: DaemonName, s: Supervised, exit: string): void {
    if (this.#stopping) return;
    const decision = s.policy.recordCrash(Date.now());
    if (decision.action === "give-up") {
      const detail = `crash loop: ${name} exited ${decision.crashesInWindow} times within ${decision.windowMs / 1000} s (last: ${exit}); not restarting it. Its log lines are above; fix the cause and restart the host.`;
      s.state = { ...s.state, state: "failed", detail };
      this.#log.error("daemon crash loop; giving up", { daemon: name, detail });
      void this.#writeState();
      return;
    }
    s.state = { ...s.state, state: "restarting", detail: `restarting after ${exit}` };
    this.#log.warn("daemon crashed; restarting", { daemon: name, exit, delayMs: decision.delayMs });
    void this.#writeState();
    s.timer = setTimeout(() => {
      s.timer = undefined;
      if (this.#stopping) return;
      s.master.start().then(
        () => {
          s.state = { state: "running", restarts: s.state.restarts + 1, detail: "" };
          void this.#writeState();
        },
        (err: unknown) => {
          // A failed start counts as one more crash of the loop.
          this.#log.error("daemon restart failed", { daemon: name, error: err });
          s.state = { ...s.state, restarts: s.state.restarts + 1 };
          this.#onCrash(name, s, err instanceof Error ? err.message : String(err));
        },
      );
    }, decision.delayMs);
  }

  async #writeState(): Promise<void> {
    const daemons: Partial<Record<DaemonName, SupervisedDaemon>> = {};
    for (const [name, s] of this.#daemons) daemons[name] = s.state;
    await writeLauncherState(this.paths.runDir, {
      pid: process.pid,
      root: this.paths.root,
      startedAtUnixMs: this.#startedAt,
      httpPort: this.#options.httpPort,
      httpsPort: this.#options.httpsPort,
      daemons,
    }).catch((err: unknown) => this.#log.warn("cannot write launcher state", { error: err }));
  }

  /** One launcher per root: refuse when another launcher or any daemon already serves it. */
  async #claimRoot(): Promise<void> {
    const pidPath = launcherPidPath(this.paths.runDir);
    const other = await readLauncherPid(pidPath);
    if (other !== undefined && other.pid !== process.pid && (await isLauncherAlive(other))) {
      throw new TakoError(
        "HOST_ALREADY_RUNNING",
        `a local host (pid ${other.pid}) already runs under ${this.paths.root}`,
      );
    }
    for (const name of this.#options.daemons ?? INSTALLED_DAEMONS) {
      const socket = stableSocketPath(this.paths.runDir, SOCKET_NAMES[name]);
      if ((await probeSocket(socket)) === "listening") {
        throw new TakoError("HOST_ALREADY_RUNNING", `${name} is already serving under ${this.paths.root}`);
      }
    }
    await writeFile(pidPath, `${process.pid} ${await processStartTime(process.pid)}\n`, { mode: 0o644 });
  }
}

/** The pid file holds "<pid> <start time>": the start time tells a live launcher from a recycled PID. */
export interface LauncherIdentity {
  readonly pid: number;
  readonly startTime: string;
}

export async function readLauncherPid(path: string): Promise<LauncherIdentity | undefined> {
  try {
    const [pid, startTime] = (await readFile(path, "utf8")).trim().split(/\s+/);
    const n = Number(pid);
    return Number.isSafeInteger(n) && n > 0 && startTime ? { pid: n, startTime } : undefined;
  } catch (err) {
    if (isErrno(err, "ENOENT")) return undefined;
    throw err;
  }
}

/** Whether the launcher recorded in the pid file is still that same process. */
export async function isLauncherAlive(identity: LauncherIdentity): Promise<boolean> {
  return (await processStartTime(identity.pid)) === identity.startTime;
}
