import { setTimeout as sleep } from "node:timers/promises";
import { TakoError } from "@tako/errors";
import { probe, type TrafficReport } from "../health/probe.js";
import { type AppProcess, describeExit, type ProcessExit } from "../process/app-process.js";
import { type FifoPair, FifoPool } from "../spawn/fifo-pool.js";
import type { OutputPipe, OutputStream } from "../spawn/output-pipe.js";

/** Probe cadence while an instance has not passed its first probe yet, and once it has. */
export const STARTING_PROBE_INTERVAL_MS = 100;
export const STEADY_PROBE_INTERVAL_MS = 1000;
/** How long the last output of an exited process may take to arrive. */
const OUTPUT_EOF_WAIT_MS = 500;

export type InstancePhase =
  | { readonly kind: "starting" }
  | { readonly kind: "ready"; readonly port: number }
  | { readonly kind: "healthy"; readonly port: number }
  | { readonly kind: "unhealthy"; readonly port: number; readonly reason: string }
  | { readonly kind: "draining"; readonly port: number }
  | { readonly kind: "stopped"; readonly exit: ProcessExit | undefined };

export interface InstanceHooks {
  /** After every phase change: publish endpoints, persist, emit events. */
  changed(instance: Instance, previous: InstancePhase): void;
  /** It died while it should have served: a failed probe after a success, or an unexpected exit. */
  died(instance: Instance, reason: string): void;
  /** A steady probe passed and `traffic` is fresh (the idle check runs on it). */
  probed(instance: Instance): void;
  line(instance: Instance, stream: OutputStream, text: string): void;
}

export interface InstanceInit {
  readonly id: string;
  readonly app: string;
  readonly env: string;
  readonly generation: number;
  readonly version: string;
  readonly token: string;
  readonly startedAtMs: number;
  readonly fifos: FifoPair;
  readonly probeTimeoutMs: number;
  readonly hooks: InstanceHooks;
}

export interface StopOptions {
  /** Out of traffic this long before SIGTERM, so the edge has stopped sending requests. */
  readonly graceMs: number;
  /** After SIGTERM, how long in-flight requests may take before SIGKILL. */
  readonly drainTimeoutMs: number;
}

/**
 * One app process and its lifecycle: starting (spawned, waiting for fd 4) → ready (port known,
 * probed every 100 ms) → healthy (in traffic, probed every second) → draining → stopped. A
 * single failed probe after a success makes it unhealthy and reports it dead.
 */
export class Instance {
  readonly id: string;
  readonly app: string;
  readonly env: string;
  readonly generation: number;
  readonly version: string;
  readonly token: string;
  readonly startedAtMs: number;
  readonly fifos: FifoPair;
  /** Aborted to cancel a start in progress. */
  readonly startAbort = new AbortController();
  process: AppProcess | undefined;
  traffic: TrafficReport | undefined;
  #phase: InstancePhase = { kind: "starting" };
  #outputs: readonly OutputPipe[] = [];
  #outputsEnded = 0;
  #onOutputsEnded: (() => void) | undefined;
  readonly #probeAbort = new AbortController();
  #probing: Promise<void> = Promise.resolve();
  #lastProbeFailure = "";
  #onPurpose = false;
  /** Handed over: this supervisor no longer records, publishes or reports anything about it. */
  #released = false;
  #stopped: Promise<void> | undefined;
  /** Checks of untilHealthy() callers, run after every phase change. */
  readonly #waiters = new Set<() => void>();
  readonly #init: InstanceInit;

  constructor(init: InstanceInit) {
    this.#init = init;
    this.id = init.id;
    this.app = init.app;
    this.env = init.env;
    this.generation = init.generation;
    this.version = init.version;
    this.token = init.token;
    this.startedAtMs = init.startedAtMs;
    this.fifos = init.fifos;
  }

  get phase(): InstancePhase {
    return this.#phase;
  }

  get port(): number {
    return "port" in this.#phase ? this.#phase.port : 0;
  }

  /** Still alive and meant to be (not draining or stopped). */
  get live(): boolean {
    const k = this.#phase.kind;
    return k === "starting" || k === "ready" || k === "healthy";
  }

  /** Output line and end callbacks for the process's pipes. */
  outputHandlers(): { onLine: (stream: OutputStream, text: string) => void; onOutputEnd: () => void } {
    return {
      onLine: (stream, text) => this.#init.hooks.line(this, stream, text),
      onOutputEnd: () => {
        this.#outputsEnded = 2;
        this.process?.check();
        this.#onOutputsEnded?.();
      },
    };
  }

  /** The process reported its port (or was adopted in `phase`): start watching and probing it. */
  run(
    process: AppProcess,
    port: number,
    outputs: readonly OutputPipe[],
    phase: "ready" | "healthy" | "draining",
  ): void {
    this.process = process;
    this.#outputs = outputs;
    this.#setPhase({ kind: phase, port });
    void process.exited.then((exit) => this.#onExit(exit));
    if (phase !== "draining") this.#probing = this.#probeLoop();
  }

  /** Resolves at the first passed probe; fails if the process dies first or `timeoutMs` passes. */
  untilHealthy(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const phase = this.#phase;
        if (phase.kind === "healthy") return finish(undefined);
        if (phase.kind === "stopped" || phase.kind === "unhealthy" || phase.kind === "draining") {
          const why =
            phase.kind === "stopped" && phase.exit ? `exited (${describeExit(phase.exit)})` : "stopped";
          return finish(
            new TakoError("APP_START_FAILED", `instance ${this.id} ${why} before it passed a health probe`, {
              metadata: { app: this.app, env: this.env, instance: this.id },
            }),
          );
        }
      };
      const timer = setTimeout(() => {
        finish(
          new TakoError(
            "APP_START_TIMEOUT",
            `instance ${this.id} reported its port but did not pass a health probe within ${timeoutMs} ms` +
              (this.#lastProbeFailure ? ` (last probe: ${this.#lastProbeFailure})` : ""),
            { metadata: { app: this.app, env: this.env, instance: this.id } },
          ),
        );
      }, timeoutMs);
      const finish = (err: Error | undefined) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        if (err) reject(err);
        else resolve();
      };
      this.#waiters.add(check);
      check();
    });
  }

  /**
   * Takes the instance out of traffic and stops it: grace, SIGTERM, up to drainTimeoutMs for
   * requests in flight, then SIGKILL. Idempotent; resolves once the process is gone and its
   * pipes are closed.
   */
  stop(options: StopOptions): Promise<void> {
    this.#onPurpose = true;
    this.startAbort.abort();
    this.#stopped ??= (async () => {
      this.#probeAbort.abort();
      await this.#probing;
      const proc = this.process;
      if (proc && !proc.hasExited) {
        const wasServing = this.#phase.kind === "healthy";
        if (this.#phase.kind !== "stopped") this.#setPhase({ kind: "draining", port: this.port });
        if (wasServing && options.graceMs > 0) await sleep(options.graceMs);
        proc.signal("SIGTERM");
        const timer = setTimeout(() => proc.signal("SIGKILL"), options.drainTimeoutMs);
        await proc.exited;
        clearTimeout(timer);
      }
      await this.#closeOutputs();
      FifoPool.remove(this.fifos);
      if (this.#phase.kind !== "stopped") this.#setPhase({ kind: "stopped", exit: undefined });
    })();
    return this.#stopped;
  }

  /** Kills at once (SIGKILL to the process group) and cleans up, like stop() with no grace. */
  kill(): Promise<void> {
    return this.stop({ graceMs: 0, drainTimeoutMs: 0 });
  }

  /**
   * Hands the process over to a successor supervisor: stops probing and watching; the output
   * pipes stay open until `closeOutputs` (the successor opens its own first).
   */
  async release(): Promise<void> {
    this.#onPurpose = true;
    this.#released = true;
    this.#probeAbort.abort();
    await this.#probing;
    this.process?.release();
  }

  closeOutputs(): void {
    for (const pipe of this.#outputs) pipe.close();
  }

  async #closeOutputs(): Promise<void> {
    if (this.#outputsEnded < 2 && this.#outputs.length > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, OUTPUT_EOF_WAIT_MS);
        this.#onOutputsEnded = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.closeOutputs();
  }

  #setPhase(phase: InstancePhase): void {
    const previous = this.#phase;
    this.#phase = phase;
    if (this.#released) return;
    this.#init.hooks.changed(this, previous);
    for (const waiter of [...this.#waiters]) waiter();
  }

  #onExit(exit: ProcessExit): void {
    const previous = this.#phase;
    if (previous.kind === "stopped") return;
    this.#probeAbort.abort();
    this.#setPhase({ kind: "stopped", exit });
    if (!this.#onPurpose && previous.kind !== "unhealthy") {
      this.#init.hooks.died(this, `exited unexpectedly (${describeExit(exit)})`);
    }
  }

  async #probeLoop(): Promise<void> {
    const signal = this.#probeAbort.signal;
    while (!signal.aborted) {
      const phase = this.#phase;
      if (phase.kind !== "ready" && phase.kind !== "healthy") return;
      const result = await probe(phase.port, this.token, this.#init.probeTimeoutMs);
      if (signal.aborted || this.#phase !== phase) continue;
      if (result.ok) {
        if (result.traffic) this.traffic = result.traffic;
        if (phase.kind === "ready") this.#setPhase({ kind: "healthy", port: phase.port });
        else this.#init.hooks.probed(this);
      } else {
        this.#lastProbeFailure = result.reason;
        if (phase.kind === "healthy") {
          this.#setPhase({ kind: "unhealthy", port: phase.port, reason: result.reason });
          this.#init.hooks.died(this, `failed a health probe: ${result.reason}`);
          return;
        }
      }
      const interval = this.#phase.kind === "ready" ? STARTING_PROBE_INTERVAL_MS : STEADY_PROBE_INTERVAL_MS;
      await sleep(interval, undefined, { signal }).catch(() => undefined);
    }
  }
}
