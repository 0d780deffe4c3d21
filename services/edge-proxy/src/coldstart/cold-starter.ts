import type { Logger } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import type { EdgeMetrics } from "../metrics/edge-metrics.js";
import { type Deployment, nextUpstream, type Upstream } from "../upstream/deployment.js";

/** An instance the supervisor reports healthy after a wake. */
export interface WokenEndpoint {
  readonly instanceId: string;
  readonly host: string;
  readonly port: number;
}

export interface ColdStarterOptions {
  /** Asks the supervisor for a healthy instance (SupervisorService.Wake). */
  readonly wake: (app: string, env: string, signal: AbortSignal) => Promise<WokenEndpoint>;
  /** Makes a woken endpoint routable before the endpoint stream reports it. */
  readonly adopt: (deployment: Deployment, endpoint: WokenEndpoint) => Upstream;
  readonly timeoutMs: number;
  readonly queueMax: number;
  readonly metrics: EdgeMetrics;
  readonly log: Logger;
  /** Aborted when the edge stops; pending wakes are abandoned. */
  readonly signal: AbortSignal;
}

export type WaitResult =
  | { readonly kind: "ready"; readonly upstream: Upstream }
  /** Not ready within the cold-start timeout: 504 "App startup timed out". */
  | { readonly kind: "timeout" }
  /** The supervisor could not start it: 502. */
  | { readonly kind: "failed" }
  /** Too many requests already waiting: 503. */
  | { readonly kind: "rejected" };

interface Waking {
  waiters: number;
  readonly result: Promise<WaitResult>;
}

/**
 * Wakes apps scaled to zero: the first request for a deployment without healthy instances asks
 * the supervisor once; later requests join the same wake, at most `queueMax` at a time. Every
 * request waits at most `timeoutMs`. A failed or timed-out wake is logged with the app's startup
 * output (carried by the supervisor's error) and the next request tries again.
 */
export class ColdStarter {
  readonly #options: ColdStarterOptions;
  readonly #waking = new Map<Deployment, Waking>();

  constructor(options: ColdStarterOptions) {
    this.#options = options;
  }

  /** Requests waiting now, all deployments together. */
  get waiting(): number {
    let n = 0;
    for (const w of this.#waking.values()) n += w.waiters;
    return n;
  }

  async waitForInstance(deployment: Deployment): Promise<WaitResult> {
    let waking = this.#waking.get(deployment);
    if (waking && waking.waiters >= this.#options.queueMax) {
      this.#options.metrics.coldStart(deployment.key, "rejected");
      return { kind: "rejected" };
    }
    if (!waking) {
      waking = { waiters: 0, result: this.#wake(deployment) };
      this.#waking.set(deployment, waking);
      const current = waking;
      void waking.result.finally(() => {
        if (this.#waking.get(deployment) === current) this.#waking.delete(deployment);
      });
    }
    waking.waiters++;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<WaitResult>((resolve) => {
      timer = setTimeout(() => resolve({ kind: "timeout" }), this.#options.timeoutMs);
    });
    try {
      const result = await Promise.race([waking.result, timeout]);
      // Another request's wake may have finished while this one waited for its own timer.
      if (result.kind === "timeout") {
        const upstream = nextUpstream(deployment);
        if (upstream) return { kind: "ready", upstream };
      }
      return result;
    } finally {
      clearTimeout(timer);
      waking.waiters--;
    }
  }

  async #wake(deployment: Deployment): Promise<WaitResult> {
    const { app, env, key } = deployment;
    const { log, metrics } = this.#options;
    const startedAt = Date.now();
    const signal = AbortSignal.any([
      this.#options.signal,
      // The supervisor has its own startup timeout; this only bounds a wake that never answers.
      AbortSignal.timeout(this.#options.timeoutMs + 5_000),
    ]);
    log.info("cold start", { app, env });
    try {
      const endpoint = await this.#options.wake(app, env, signal);
      const upstream = this.#options.adopt(deployment, endpoint);
      metrics.coldStart(key, "ok");
      log.info("cold start finished", {
        app,
        env,
        instance: endpoint.instanceId,
        ms: Date.now() - startedAt,
      });
      return { kind: "ready", upstream };
    } catch (err) {
      const timedOut =
        (TakoError.is(err) && err.kind === "deadline_exceeded") ||
        Date.now() - startedAt >= this.#options.timeoutMs;
      metrics.coldStart(key, timedOut ? "timeout" : "failed");
      // The supervisor's error carries the app's captured startup output: this line is the
      // app's startup log as far as the edge is concerned.
      log.error(timedOut ? "app startup timed out" : "app startup failed", {
        app,
        env,
        ms: Date.now() - startedAt,
        startupOutput: err instanceof Error ? err.message : String(err),
        ...(TakoError.is(err) ? { reason: err.reason, ...err.metadata } : {}),
      });
      return { kind: timedOut ? "timeout" : "failed" };
    }
  }
}
