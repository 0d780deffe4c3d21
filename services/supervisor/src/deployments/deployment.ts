import { rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import { swapSymlink } from "@tako/rpc";
import type { AppEndpointsView, EndpointTable } from "../endpoints/endpoint-table.js";
import type { InstanceEvents } from "../events/instance-events.js";
import type { Instance, InstanceHooks } from "../instances/instance.js";
import type { InstanceLauncher, PreparedRelease } from "../instances/instance-launcher.js";
import { AppLog } from "../logs/app-log.js";
import { type DeploymentKey, deploymentKey } from "../names.js";
import type { StateStore } from "../store/state-store.js";
import { type AppStatusView, statusOf } from "./app-status.js";
import { instanceHooks } from "./instance-hooks.js";
import { OpLock } from "./op-lock.js";
import { type RolloutResult, rollOut } from "./rollout.js";

/** Out of traffic this long before an instance gets SIGTERM, so the edge has moved on. */
export const ENDPOINT_GRACE_MS = 500;
const MAX_RESTART_BACKOFF_MS = 30_000;

export interface DeploymentConfig {
  readonly maxInstances: number;
  readonly drainTimeoutMs: number;
  readonly rolloutStabilityMs: number;
}

export interface DeploymentContext {
  readonly store: StateStore;
  readonly endpoints: EndpointTable;
  readonly events: InstanceEvents;
  readonly launcher: InstanceLauncher;
  readonly config: DeploymentConfig;
  readonly log: Logger;
}

/**
 * One {app}/{env} on this host: its committed release, desired instance count and instances.
 * Operations that change the set of instances (rollout, scale, replacement, idle-out, stop) run
 * one at a time through `lock`. Background work (replacing a dead instance, retrying a failed
 * start with backoff, stopping an idle one) is tracked so stop/handover can wait for it.
 */
export class Deployment {
  readonly app: string;
  readonly env: string;
  readonly key: DeploymentKey;
  readonly appLog: AppLog;
  readonly instances = new Map<string, Instance>();
  readonly lock = new OpLock();
  prepared: PreparedRelease | undefined;
  generation = 0;
  desired = 1;
  stopped = false;
  lastError = "";
  rollingOut = false;
  readonly ctx: DeploymentContext;
  readonly hooks: InstanceHooks;
  readonly #life = new AbortController();
  readonly #tasks = new Set<Promise<void>>();
  readonly #starts = new Set<Promise<unknown>>();
  /**
   * New instances of a rollout that are healthy but still in their stability window while the
   * old release serves: kept out of traffic until they prove they stay up, so a release that
   * dies right after its first probe never gets a request.
   */
  readonly #probation = new Set<string>();
  #startFailures = 0;
  #waking: Promise<Instance> | undefined;

  constructor(app: string, env: string, logDir: string, ctx: DeploymentContext) {
    this.app = app;
    this.env = env;
    this.key = deploymentKey(app, env);
    this.ctx = ctx;
    this.appLog = new AppLog(logDir);
    this.hooks = instanceHooks(this);
  }

  /** Healthy instances in traffic (not on probation), oldest first. */
  healthy(): Instance[] {
    return [...this.instances.values()].filter((i) => i.phase.kind === "healthy" && !this.onProbation(i));
  }

  onProbation(instance: Instance): boolean {
    return this.#probation.has(instance.id);
  }

  /** Puts an instance on probation out of traffic in its stability window into traffic. */
  admit(instance: Instance): void {
    if (!this.#probation.delete(instance.id)) return;
    this.publish();
    if (instance.phase.kind === "healthy") this.becameHealthy(instance);
  }

  /** Instances alive and meant to be, most idle first (the order to drain them in). */
  liveInstances(): Instance[] {
    const idleness = (i: Instance) => (i.traffic ? (i.traffic.inflight > 0 ? -1 : i.traffic.idleMs) : 0);
    return [...this.instances.values()].filter((i) => i.live).sort((a, b) => idleness(b) - idleness(a));
  }

  /** A server line in the app's log (one entry per line of `text`). */
  note(text: string, instanceId = ""): void {
    const timeMs = Date.now();
    for (const line of text.split("\n")) {
      if (line !== "") this.appLog.append({ timeMs, source: "server", instanceId, text: line });
    }
  }

  view(): AppEndpointsView {
    return {
      app: this.app,
      env: this.env,
      endpoints: this.healthy().map((i) => ({
        instanceId: i.id,
        host: "127.0.0.1",
        port: i.port,
        version: i.version,
      })),
      desiredInstances: this.desired,
      releaseDir: this.prepared?.release.releaseDir ?? "",
    };
  }

  publish(): void {
    if (this.stopped) this.ctx.endpoints.remove(this.key);
    else this.ctx.endpoints.set(this.view());
  }

  status(): AppStatusView {
    return statusOf(this);
  }

  // Rollout

  async apply(prepared: PreparedRelease, progress: (detail: string) => void): Promise<RolloutResult> {
    if (this.rollingOut) {
      throw new TakoError("ROLLOUT_IN_PROGRESS", `a rollout of ${this.key} is already running`, {
        metadata: { app: this.app, env: this.env },
      });
    }
    this.rollingOut = true;
    const wasStopped = this.stopped;
    try {
      return await this.lock.run(async () => {
        this.stopped = false;
        const generation = this.generation + 1;
        const { version } = prepared.release;
        this.note(`rolling out release ${version}`);
        try {
          const result = await rollOut(this, prepared, generation, {
            target: Math.min(Math.max(this.desired, 1), this.ctx.config.maxInstances),
            stabilityMs: this.ctx.config.rolloutStabilityMs,
            progress: (detail) => {
              this.note(detail);
              progress(detail);
            },
          });
          this.ctx.store.commitRelease(prepared.release, generation, 1);
          this.prepared = prepared;
          this.generation = generation;
          this.stopped = false;
          this.lastError = "";
          this.#startFailures = 0;
          await swapSymlink(join(prepared.dirs.appDir, "current"), prepared.release.releaseDir);
          this.note(`release ${version} is live`);
          this.publish();
          return result;
        } catch (err) {
          const message = `rollout of release ${version} failed: ${(err as Error).message}`;
          this.stopped = wasStopped;
          this.#fail(message);
          await this.converge();
          throw new TakoError("ROLLOUT_FAILED", message, {
            metadata: { app: this.app, env: this.env, version },
            cause: err,
          });
        }
      });
    } finally {
      this.rollingOut = false;
      this.publish();
    }
  }

  // Instances

  /** Starts an instance; on `probation` it stays out of traffic until `admit`. */
  async startInstance(
    prepared: PreparedRelease,
    generation: number,
    options: { probation?: boolean } = {},
  ): Promise<Instance> {
    const instance = this.ctx.launcher.create(prepared, generation, this.hooks);
    if (options.probation) this.#probation.add(instance.id);
    this.instances.set(instance.id, instance);
    const start = this.ctx.launcher.start(instance, prepared, this.#life.signal);
    this.#starts.add(start);
    try {
      await start;
      this.#startFailures = 0;
      return instance;
    } catch (err) {
      await instance.kill();
      this.#forget(instance);
      // The first line says why; the startup output is in the log already, line by line.
      this.note(
        `instance ${instance.id} failed to start: ${(err as Error).message.split("\n", 1)[0]}`,
        instance.id,
      );
      throw err;
    } finally {
      this.#starts.delete(start);
    }
  }

  async drainInstance(instance: Instance): Promise<void> {
    await instance.stop({ graceMs: ENDPOINT_GRACE_MS, drainTimeoutMs: this.ctx.config.drainTimeoutMs });
    this.#forget(instance);
  }

  async killInstance(instance: Instance): Promise<void> {
    await instance.kill();
    this.#forget(instance);
  }

  #forget(instance: Instance): void {
    this.instances.delete(instance.id);
    this.#probation.delete(instance.id);
  }

  /**
   * Brings the instances of the committed release to the desired count: starts missing ones
   * (a failure is retried with exponential backoff), drains extra ones (at 0 they stop when idle
   * instead), and drains outdated ones left by an interrupted rollout. Call under `lock`.
   */
  async converge(): Promise<void> {
    const prepared = this.prepared;
    if (!prepared || this.stopped || this.#life.signal.aborted) return;
    const current = () => this.liveInstances().filter((i) => i.generation === this.generation);
    // A count stored under a higher limit (the host shrank) is clamped, not refused.
    const target = Math.min(this.desired, this.ctx.config.maxInstances);
    while (current().length < target) {
      try {
        await this.startInstance(prepared, this.generation);
      } catch (err) {
        if (this.#life.signal.aborted) return;
        this.#startFailures++;
        this.#fail(`an instance failed to start: ${(err as Error).message}`);
        const delayMs = Math.min(1000 * 2 ** (this.#startFailures - 1), MAX_RESTART_BACKOFF_MS);
        this.note(`next start attempt in ${delayMs} ms`);
        this.background(async () => {
          await sleep(delayMs, undefined, { signal: this.#life.signal });
          await this.lock.run(() => this.converge());
        });
        return;
      }
    }
    // At 0, running instances stop one by one as they go idle (onProbed), not here.
    if (target === 0) return;
    for (const extra of current().slice(0, Math.max(0, current().length - target))) {
      await this.drainInstance(extra);
    }
    if (current().length >= target) {
      for (const outdated of this.liveInstances().filter((i) => i.generation !== this.generation)) {
        await this.drainInstance(outdated);
      }
    }
  }

  /** An instance died (failed probe after success, or exited): kill it and replace it. */
  onDeath(instance: Instance, reason: string): void {
    this.note(`instance ${instance.id} ${reason}`, instance.id);
    this.ctx.log.warn("instance died", { app: this.app, env: this.env, instance: instance.id, reason });
    this.lastError = `instance ${instance.id} ${reason}`;
    this.background(async () => {
      await this.killInstance(instance);
      await this.lock.run(() => this.converge());
    });
  }

  /** After a steady probe: an instance idle past the idle timeout stops when the count is 0. */
  onProbed(instance: Instance): void {
    const prepared = this.prepared;
    const traffic = instance.traffic;
    if (!prepared || this.desired !== 0 || this.rollingOut || this.lock.held || !traffic) return;
    if (traffic.inflight > 0 || traffic.idleMs < prepared.release.idleTimeoutMs) return;
    this.background(() =>
      this.lock.run(async () => {
        if (this.desired !== 0 || instance.phase.kind !== "healthy") return;
        this.note(
          `instance ${instance.id} idle for ${Math.round(traffic.idleMs / 1000)} s: stopping it`,
          instance.id,
        );
        await this.drainInstance(instance);
      }),
    );
  }

  // Scale, wake, stop

  async scale(instances: number): Promise<void> {
    const { maxInstances } = this.ctx.config;
    if (instances > maxInstances) {
      throw new TakoError(
        "SCALE_LIMIT",
        `Requested ${instances} instances, but this server allows at most ${maxInstances}.`,
        { metadata: { app: this.app, env: this.env, limit: String(maxInstances) } },
      );
    }
    const previous = this.desired;
    this.ctx.store.setDesired(this.app, this.env, instances);
    this.desired = instances;
    this.publish();
    this.note(`desired instances: ${previous} → ${instances}`);
    await this.lock.run(async () => {
      const before = new Set(this.instances.keys());
      const failuresBefore = this.#startFailures;
      await this.converge();
      if (this.#startFailures > failuresBefore) {
        // Undo this call: back to the previous count, without the instances it started.
        this.ctx.store.setDesired(this.app, this.env, previous);
        this.desired = previous;
        for (const i of this.liveInstances().filter((x) => !before.has(x.id))) await this.drainInstance(i);
        this.publish();
        throw new TakoError("SCALE_FAILED", `Scale failed: ${this.lastError}`, {
          metadata: { app: this.app, env: this.env },
        });
      }
    });
  }

  /** Makes sure one instance is healthy; starts one if none is (a cold start). */
  async wake(): Promise<{ instance: Instance; coldStart: boolean }> {
    const prepared = this.prepared;
    if (this.stopped)
      throw new TakoError("APP_STOPPED", `${this.key} is stopped`, {
        metadata: { app: this.app, env: this.env },
      });
    if (!prepared) throw new TakoError("APP_NOT_FOUND", `${this.key} has no release on this host`);
    const ready = this.healthy()[0];
    if (ready) return { instance: ready, coldStart: false };
    let coldStart = false;
    this.#waking ??= this.lock
      .run(async () => {
        const again = this.healthy()[0];
        if (again) return again;
        coldStart = true;
        this.note("waking up: starting an instance");
        return this.startInstance(prepared, this.generation);
      })
      .finally(() => {
        this.#waking = undefined;
      });
    // A rollout or replacement holding the lock may bring an instance up first: take that one.
    const next = this.#nextHealthy();
    try {
      const instance = await Promise.race([this.#waking, next.promise]);
      return { instance, coldStart: coldStart && instance !== undefined };
    } catch (err) {
      this.#fail(`wake failed: ${(err as Error).message}`);
      throw err;
    } finally {
      next.cancel();
    }
  }

  readonly #healthyWaiters = new Set<(instance: Instance) => void>();

  /** Called by the hooks when an instance passes its first probe. */
  becameHealthy(instance: Instance): void {
    for (const resolve of [...this.#healthyWaiters]) resolve(instance);
  }

  #nextHealthy(): { promise: Promise<Instance>; cancel: () => void } {
    let resolver: (instance: Instance) => void = () => undefined;
    const promise = new Promise<Instance>((resolve) => {
      resolver = resolve;
      this.#healthyWaiters.add(resolve);
    });
    return { promise, cancel: () => this.#healthyWaiters.delete(resolver) };
  }

  /** Stops every instance; forgets the deployment (purge: also its logs and stored state). */
  async stop(purge: boolean): Promise<number> {
    return this.lock.run(async () => {
      this.stopped = true;
      if (purge) this.ctx.store.deleteDeployment(this.app, this.env);
      else this.ctx.store.setStopped(this.app, this.env, true);
      const all = [...this.instances.values()];
      await Promise.all(all.map((i) => this.drainInstance(i)));
      this.ctx.endpoints.remove(this.key);
      this.note(`stopped (${all.length} instance(s))`);
      if (purge) {
        await this.appLog.close();
        await rm(this.appLog.dir, { recursive: true, force: true });
      }
      return all.length;
    });
  }

  // Lifecycle of the supervisor process

  background(task: () => Promise<void>): void {
    const p = task().catch((err: unknown) => {
      if (!this.#life.signal.aborted)
        this.ctx.log.error("background task failed", { app: this.app, env: this.env, error: err });
    });
    this.#tasks.add(p);
    void p.finally(() => this.#tasks.delete(p));
  }

  /** Cancels starts in progress and background work (shutdown or handover begins). */
  async quiesce(): Promise<void> {
    this.#life.abort();
    for (const i of this.instances.values())
      if (i.phase.kind === "starting" || i.phase.kind === "ready") i.startAbort.abort();
    await Promise.allSettled([...this.#starts]);
  }

  /** Waits for background work (after quiesce, it ends quickly). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#tasks]);
  }

  #fail(message: string): void {
    this.lastError = message;
    this.ctx.log.warn("deployment error", { app: this.app, env: this.env, error: message });
    this.ctx.store.setLastError(this.app, this.env, message);
  }
}
