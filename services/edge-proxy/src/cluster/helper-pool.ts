import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Logger } from "@tako/daemon";
import type { EdgeConfig } from "../config.js";
import type { MetricsSnapshot } from "../metrics/edge-metrics.js";
import { type FromHelper, isFromHelper, type ToHelper } from "./messages.js";

const HELPER_ENTRY = fileURLToPath(new URL("./helper-main.js", import.meta.url));
/** A helper that does not report ready this fast is killed (and its start fails). */
const READY_TIMEOUT_MS = 30_000;
/** Delay before a crashed helper is replaced. */
const RESPAWN_DELAY_MS = 1_000;
/** How long a metrics scrape waits for each helper. */
const METRICS_TIMEOUT_MS = 2_000;

type HelperState = "starting" | "serving" | "draining" | "exited";

interface Helper {
  readonly child: ChildProcess;
  state: HelperState;
  readonly exited: Promise<void>;
}

export interface HelperPoolOptions {
  readonly count: number;
  readonly config: EdgeConfig;
  readonly processes: number;
  readonly ticketKeys: Buffer;
  readonly log: Logger;
  /** Handles of the public sockets (from the master), sent to every helper to accept on. */
  readonly handles: { readonly https: readonly object[]; readonly http: readonly object[] };
  /** The complete state a new helper starts from (routes, endpoints, certificates, challenges). */
  readonly initial: () => Omit<
    Extract<ToHelper, { type: "edge:init" }>,
    "type" | "config" | "processes" | "ticketKeys"
  >;
}

/**
 * The helper processes of one edge generation: each accepts on the public sockets itself (the
 * primary sends it handles of them once it is ready) and serves with a replica of the primary's
 * state kept current by `broadcast`. A helper that crashes is replaced; the pool drains with the
 * primary and ends with it (a helper whose primary is gone drains and exits on its own).
 */
export class HelperPool {
  readonly #options: HelperPoolOptions;
  readonly #helpers = new Set<Helper>();
  readonly #pendingMetrics = new Map<number, (s: MetricsSnapshot | undefined) => void>();
  #nextMetricsId = 1;
  #stopping = false;

  constructor(options: HelperPoolOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#helpers.size;
  }

  /** Starts every helper; resolves once all of them listen. */
  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.#options.count }, () => this.#spawn()));
  }

  broadcast(message: ToHelper): void {
    for (const h of this.#helpers) if (h.state === "serving" || h.state === "starting") send(h, message);
  }

  /** Every serving helper's metrics (a helper that does not answer in time is left out). */
  async metrics(): Promise<MetricsSnapshot[]> {
    const asks = [...this.#helpers]
      .filter((h) => h.state === "serving")
      .map(
        (h) =>
          new Promise<MetricsSnapshot | undefined>((resolve) => {
            const id = this.#nextMetricsId++;
            const timer = setTimeout(() => {
              this.#pendingMetrics.delete(id);
              resolve(undefined);
            }, METRICS_TIMEOUT_MS);
            this.#pendingMetrics.set(id, (s) => {
              clearTimeout(timer);
              resolve(s);
            });
            send(h, { type: "edge:metrics", id });
          }),
      );
    return (await Promise.all(asks)).filter((s): s is MetricsSnapshot => s !== undefined);
  }

  /** Drains every helper (soft drain, like the primary) and waits for them to exit. */
  async drain(deadlineMs: number): Promise<void> {
    this.#stopping = true;
    const helpers = [...this.#helpers];
    for (const h of helpers) {
      if (h.state !== "exited") send(h, { type: "edge:drain", deadlineMs });
      h.state = "draining";
    }
    const kill = setTimeout(() => {
      for (const h of helpers) h.child.kill("SIGKILL");
    }, deadlineMs + 2_000);
    await Promise.all(helpers.map((h) => h.exited));
    clearTimeout(kill);
  }

  #spawn(): Promise<void> {
    const { log } = this.#options;
    // --root only names the host in the process list (ps, leak checks); the config comes by IPC.
    const child = fork(HELPER_ENTRY, ["--root", this.#options.config.root], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const helper: Helper = { child, state: "starting", exited };
    this.#helpers.add(helper);
    child.on("error", (err) => log.warn("edge helper process error", { error: err }));
    void exited.then(() => {
      const wasServing = helper.state === "serving";
      helper.state = "exited";
      this.#helpers.delete(helper);
      if (wasServing && !this.#stopping) {
        log.error("edge helper exited unexpectedly; replacing it", { pid: child.pid, code: child.exitCode });
        setTimeout(() => {
          if (!this.#stopping)
            this.#spawn().catch((err: unknown) => log.error("edge helper failed", { error: err }));
        }, RESPAWN_DELAY_MS).unref();
      }
    });
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`edge helper ${child.pid} did not start within ${READY_TIMEOUT_MS} ms`));
      }, READY_TIMEOUT_MS);
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`edge helper ${child.pid} exited during startup`));
      });
      child.on("message", (msg: unknown) => {
        if (!isFromHelper(msg)) return;
        this.#onMessage(helper, msg);
        if (msg.type === "edge:ready") {
          clearTimeout(timer);
          helper.state = "serving";
          this.#shareHandles(helper);
          resolve();
        }
      });
      const { config, processes, ticketKeys } = this.#options;
      send(helper, {
        type: "edge:init",
        config,
        processes,
        ticketKeys: ticketKeys.toString("base64"),
        ...this.#options.initial(),
      });
    });
  }

  /** Sends the helper its own handles of the public sockets (Node sends one handle at a time). */
  #shareHandles(helper: Helper): void {
    for (const listener of ["https", "http"] as const) {
      for (const handle of this.#options.handles[listener]) {
        if (!helper.child.connected) return;
        const message: ToHelper = { type: "edge:accept", listener };
        helper.child.send(message, handle as Parameters<ChildProcess["send"]>[1], () => undefined);
      }
    }
  }

  #onMessage(_helper: Helper, msg: FromHelper): void {
    if (msg.type === "edge:metrics") {
      this.#pendingMetrics.get(msg.id)?.(msg.snapshot);
      this.#pendingMetrics.delete(msg.id);
    }
  }
}

function send(helper: Helper, message: ToHelper): void {
  if (!helper.child.connected) return;
  try {
    helper.child.send(message);
  } catch {
    // the helper is exiting; its exit handler does the bookkeeping
  }
}
