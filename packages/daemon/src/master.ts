import { type ChildProcess, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import * as net from "node:net";
import { getSystemErrorName } from "node:util";
import { TakoError } from "@tako/errors";
import { isWorkerMessage, type MasterMessage, WORKER_ENV, type WorkerMessage } from "./ipc.js";
import type { Logger } from "./logger.js";
import type { DaemonName } from "./registry.js";

export interface DaemonMasterOptions {
  readonly name: DaemonName;
  /** Absolute path of the daemon's entry module (its dist/src/main.js). */
  readonly entry: string;
  /** Flags passed to every worker generation. */
  readonly args: readonly string[];
  readonly log: Logger;
  readonly env?: NodeJS.ProcessEnv;
  readonly execArgv?: readonly string[];
  /** How long a new worker may take to own its socket. Default 30 s. */
  readonly readyTimeoutMs?: number;
  /** How long a draining worker may take to exit before it is killed. Default 60 s. */
  readonly drainTimeoutMs?: number;
  /** Where workers' stdout and stderr go: inherited (default), discarded, or an open file descriptor. */
  readonly output?: "inherit" | "ignore" | number;
}

export interface WorkerExit {
  readonly pid: number;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly aliveMs: number;
}

export interface ReloadResult {
  readonly oldPid: number;
  readonly newPid: number;
}

type GenerationState = "starting" | "serving" | "draining" | "exited";

interface Generation {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly startedAt: number;
  state: GenerationState;
  readonly exited: Promise<WorkerExit>;
}

export interface DaemonMasterEvents {
  /** The serving worker exited although nobody asked it to. */
  crash: [WorkerExit];
}

/**
 * Keeps one daemon running as a sequence of worker generations. The master never serves calls
 * itself; it starts a worker, starts its successor on reload (the successor swaps the socket
 * symlink, then the predecessor drains), stops workers with a deadline, and owns the listening
 * TCP sockets workers share so a reload never refuses a connection. It is hosted either by a
 * standalone process (one per systemd unit) or, several at once, by the local host launcher.
 */
export class DaemonMaster extends EventEmitter<DaemonMasterEvents> {
  readonly name: DaemonName;
  readonly #options: DaemonMasterOptions;
  readonly #log: Logger;
  #current: Generation | undefined;
  readonly #draining = new Set<Generation>();
  #reloading = false;
  #stopping = false;
  readonly #listeners = new Map<string, net.Server>();

  constructor(options: DaemonMasterOptions) {
    super();
    this.name = options.name;
    this.#options = options;
    this.#log = options.log.child({ daemon: options.name });
  }

  /** PID of the worker that owns the socket now. */
  get pid(): number | undefined {
    return this.#current?.state === "serving" ? this.#current.pid : undefined;
  }

  /** Every live worker PID (the serving one and any still draining). */
  get pids(): number[] {
    const all = [...this.#draining, ...(this.#current ? [this.#current] : [])];
    return all.filter((g) => g.state !== "exited").map((g) => g.pid);
  }

  /** Starts the first worker (or a new one after a crash); resolves with its PID once it serves. */
  async start(): Promise<number> {
    this.#stopping = false;
    if (this.#current && this.#current.state !== "exited") return this.#current.pid;
    const gen = await this.#spawn();
    this.#current = gen;
    return gen.pid;
  }

  /**
   * Starts a successor, waits until it owns the socket, then drains the predecessor. When the
   * successor fails, it is killed and the predecessor keeps serving.
   */
  async reload(): Promise<ReloadResult> {
    if (this.#reloading) throw new TakoError("RELOAD_IN_PROGRESS", `${this.name} is already reloading`);
    const old = this.#current;
    if (old?.state !== "serving" || this.#stopping) {
      throw new TakoError("DAEMON_UNREACHABLE", `${this.name} is not running`, {
        metadata: { daemon: this.name },
      });
    }
    this.#reloading = true;
    try {
      let next: Generation;
      try {
        next = await this.#spawn();
      } catch (err) {
        throw new TakoError(
          "RELOAD_FAILED",
          `${this.name}'s successor did not start: ${(err as Error).message}`,
          {
            metadata: { daemon: this.name },
            cause: err,
          },
        );
      }
      this.#current = next;
      this.#retire(old, "replaced");
      this.#log.info("reloaded", { oldPid: old.pid, newPid: next.pid });
      return { oldPid: old.pid, newPid: next.pid };
    } finally {
      this.#reloading = false;
    }
  }

  /**
   * Drains every worker and waits for them to exit; any still alive at the deadline is killed.
   * Closes the shared listening sockets when `closeListeners` is set.
   */
  async stop(options: { deadlineMs?: number; closeListeners?: boolean } = {}): Promise<void> {
    this.#stopping = true;
    const deadlineMs = options.deadlineMs ?? this.#options.drainTimeoutMs ?? 60_000;
    const gens = [...this.#draining, ...(this.#current ? [this.#current] : [])].filter(
      (g) => g.state !== "exited",
    );
    for (const gen of gens) {
      if (gen.state !== "draining") this.#send(gen, { type: "tako:drain", reason: "stop" });
      gen.state = "draining";
      this.#draining.add(gen);
    }
    const timer = setTimeout(() => {
      for (const gen of gens) if (gen.state !== "exited") gen.child.kill("SIGKILL");
    }, deadlineMs);
    await Promise.all(gens.map((g) => g.exited));
    clearTimeout(timer);
    if (this.#current?.state === "exited") this.#current = undefined;
    if (options.closeListeners) this.closeListeners();
  }

  /** Kills every worker at once (the second Ctrl-C). */
  kill(): void {
    this.#stopping = true;
    for (const pid of this.pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }

  closeListeners(): void {
    for (const server of this.#listeners.values()) server.close();
    this.#listeners.clear();
  }

  #retire(gen: Generation, reason: "replaced" | "stop"): void {
    gen.state = "draining";
    this.#draining.add(gen);
    this.#send(gen, { type: "tako:drain", reason });
    const drainTimeoutMs = this.#options.drainTimeoutMs ?? 60_000;
    const timer = setTimeout(() => {
      if (gen.state === "exited") return;
      this.#log.warn("draining worker killed at deadline", { pid: gen.pid, drainTimeoutMs });
      gen.child.kill("SIGKILL");
    }, drainTimeoutMs);
    timer.unref();
    void gen.exited.then(() => clearTimeout(timer));
  }

  #send(gen: Generation, msg: MasterMessage, handle?: net.Server): void {
    if (!gen.child.connected) return;
    try {
      if (handle) gen.child.send(msg, handle);
      else gen.child.send(msg);
    } catch (err) {
      this.#log.warn("cannot message worker", { pid: gen.pid, error: err });
    }
  }

  #spawn(): Promise<Generation> {
    const opts = this.#options;
    const child = spawn(process.execPath, [...(opts.execArgv ?? []), opts.entry, ...opts.args], {
      env: { ...(opts.env ?? process.env), [WORKER_ENV]: "worker" },
      stdio: ["ignore", opts.output ?? "inherit", opts.output ?? "inherit", "ipc"],
    });
    if (child.pid === undefined) {
      return Promise.reject(new TakoError("DAEMON_START_FAILED", `could not spawn ${this.name}`));
    }
    const startedAt = Date.now();
    const exited = new Promise<WorkerExit>((resolve) => {
      child.once("exit", (code, signal) =>
        resolve({ pid: child.pid ?? 0, code, signal, aliveMs: Date.now() - startedAt }),
      );
    });
    const gen: Generation = { child, pid: child.pid, startedAt, state: "starting", exited };
    child.on("error", (err) => this.#log.error("worker process error", { pid: gen.pid, error: err }));
    void exited.then((exit) => this.#onExit(gen, exit));

    return new Promise<Generation>((resolve, reject) => {
      const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(
          new TakoError(
            "DAEMON_START_FAILED",
            `${this.name} did not become ready within ${readyTimeoutMs} ms`,
          ),
        );
      }, readyTimeoutMs);
      void exited.then((exit) => {
        clearTimeout(timer);
        if (gen.state === "starting" || gen.state === "exited") {
          reject(
            new TakoError(
              "DAEMON_START_FAILED",
              `${this.name} exited during startup (${describeExit(exit)})`,
            ),
          );
        }
      });
      child.on("message", (msg: unknown) => {
        if (!isWorkerMessage(msg)) return;
        this.#onMessage(gen, msg);
        if (msg.type === "tako:ready" && gen.state === "starting") {
          clearTimeout(timer);
          gen.state = "serving";
          resolve(gen);
        }
      });
    });
  }

  #onMessage(gen: Generation, msg: WorkerMessage): void {
    switch (msg.type) {
      case "tako:ready":
        break;
      case "tako:reload":
        if (gen !== this.#current) return; // a draining worker cannot ask for yet another successor
        this.reload().catch((err: unknown) => this.#log.error("reload failed", { error: err }));
        break;
      case "tako:listen":
        this.#shareListener(gen, msg.id, msg.host, msg.port);
        break;
    }
  }

  #onExit(gen: Generation, exit: WorkerExit): void {
    const wasServing = gen.state === "serving";
    gen.state = "exited";
    this.#draining.delete(gen);
    if (gen !== this.#current) return;
    this.#current = undefined;
    if (wasServing && !this.#stopping) {
      this.#log.error("worker exited unexpectedly", {
        pid: exit.pid,
        exit: describeExit(exit),
        aliveMs: exit.aliveMs,
      });
      this.emit("crash", exit);
    }
  }

  /**
   * Binds host:port once (without listening, exactly as Node's cluster does for shared handles:
   * the master must never accept a connection itself) and sends the handle to the worker, which
   * listens on it. Every later generation gets the same socket; once listening, the kernel keeps
   * queueing connections on it even while no worker accepts, e.g. between a crash and a restart.
   */
  #shareListener(gen: Generation, id: number, host: string, port: number): void {
    const key = `${host}:${port}`;
    let server = this.#listeners.get(key);
    if (!server) {
      const handle = createBoundHandle(host, port);
      if (typeof handle === "string") {
        this.#send(gen, { type: "tako:listen-result", id, error: `cannot bind ${key}: ${handle}` });
        return;
      }
      server = new net.Server();
      (server as unknown as { _handle: unknown })._handle = handle;
      this.#listeners.set(key, server);
    }
    this.#send(gen, { type: "tako:listen-result", id }, server);
  }
}

// Internal Node API, stable since Node 0.x and used by the cluster module: creates a TCP handle
// bound to host:port but not listening. Returns an errno name on failure.
type BoundHandle = { close(): void };
function createBoundHandle(host: string, port: number): BoundHandle | string {
  const create = (
    net as unknown as { _createServerHandle: (a: string, p: number, t: number) => BoundHandle | number }
  )._createServerHandle;
  const result = create(host, port, net.isIPv6(host) ? 6 : 4);
  if (typeof result === "number") return getSystemErrorName(result);
  return result;
}

export function describeExit(exit: Pick<WorkerExit, "code" | "signal">): string {
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}
