import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { HostPaths, Logger, StopReason } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import type { AppStatusView } from "../deployments/app-status.js";
import { Deployment, type DeploymentConfig } from "../deployments/deployment.js";
import { instanceEvent } from "../deployments/instance-hooks.js";
import type { RolloutResult } from "../deployments/rollout.js";
import { type EndpointChange, EndpointTable } from "../endpoints/endpoint-table.js";
import { type InstanceEvent, InstanceEvents } from "../events/instance-events.js";
import { adoptInstance } from "../instances/adopt.js";
import type { Instance } from "../instances/instance.js";
import { InstanceLauncher } from "../instances/instance-launcher.js";
import { type DeploymentKey, deploymentKey } from "../names.js";
import { Lease } from "../ownership/lease.js";
import { isSameLiveProcess } from "../process/proc-stat.js";
import { type Release, validateRelease } from "../release.js";
import { appDirs } from "../spawn/app-dirs.js";
import { FifoPool } from "../spawn/fifo-pool.js";
import { bundleSdkEntrypoint } from "../spawn/sdk-bundle.js";
import { StateStore } from "../store/state-store.js";

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
}

export interface FleetOptions {
  readonly paths: HostPaths;
  readonly config: DeploymentConfig & { readonly probeTimeoutMs: number };
  readonly log: Logger;
  /** Absolute path of the SDK's server entrypoint. */
  readonly sdkEntrypoint: string;
}

/** How long an RPC waits for this generation to take over from its predecessor. */
const OWNERSHIP_WAIT_MS = 60_000;
/** How long a handing-over generation keeps reading app output for its successor. */
const SUCCESSOR_WAIT_MS = 10_000;

type Ownership = { readonly kind: "waiting" } | { readonly kind: "owner" } | { readonly kind: "retired" };

/**
 * Every app process on the host: the domain root of the supervisor. One supervisor generation
 * at a time owns the processes (the lease). A new generation (reload, or restart after a crash)
 * adopts the processes its predecessor recorded and restores every deployment to its desired
 * count from the stored state; RPCs that need ownership wait until it has taken over.
 */
export class Fleet {
  readonly endpoints = new EndpointTable();
  readonly events = new InstanceEvents();
  readonly #options: FleetOptions;
  readonly #log: Logger;
  readonly #deployments = new Map<DeploymentKey, Deployment>();
  readonly #fifos: FifoPool;
  readonly #launcher: InstanceLauncher;
  readonly #life = new AbortController();
  #store: StateStore | undefined;
  #lease: Lease | undefined;
  #ownership: Ownership = { kind: "waiting" };
  #owned: Promise<void>;
  #becomeOwner: () => void = () => undefined;
  #acquiring: Promise<void> = Promise.resolve();

  constructor(options: FleetOptions) {
    this.#options = options;
    this.#log = options.log;
    this.#fifos = new FifoPool(join(options.paths.runDir, "app-output"));
    this.#launcher = new InstanceLauncher({
      paths: options.paths,
      fifos: this.#fifos,
      sdkEntrypoint: options.sdkEntrypoint,
      probeTimeoutMs: options.config.probeTimeoutMs,
    });
    this.#owned = new Promise((resolve) => {
      this.#becomeOwner = resolve;
    });
  }

  get ownership(): Ownership["kind"] {
    return this.#ownership.kind;
  }

  /** Opens the state; takes over now if nobody owns the processes, else once the owner lets go. */
  async start(): Promise<void> {
    const store = new StateStore(this.#options.paths.stateDir);
    this.#store = store;
    // Without the bundle, spawns use the SDK's module graph: correct, a few ms slower.
    const bundleDir = join(this.#options.paths.runDir, "sdk");
    await bundleSdkEntrypoint(this.#options.sdkEntrypoint, bundleDir).then(
      (path) => this.#launcher.useSdkEntrypoint(path),
      (err: unknown) =>
        this.#log.warn("cannot bundle the SDK entrypoint; using it unbundled", { error: err }),
    );
    const lease = new Lease(store);
    this.#lease = lease;
    if (lease.tryAcquire()) {
      await this.#takeOver(store);
      return;
    }
    this.#log.info("waiting for the previous supervisor to hand over its app processes");
    this.#acquiring = (async () => {
      if (await lease.acquire(this.#life.signal)) await this.#takeOver(store);
    })().catch((err: unknown) => this.#log.error("take-over failed", { error: err }));
  }

  async #takeOver(store: StateStore): Promise<void> {
    const startedAt = Date.now();
    const records = store.instances();
    const deployments = store.deployments();
    for (const record of deployments) {
      const d = this.#deployment(record.app, record.env);
      d.desired = record.desired;
      d.generation = record.generation;
      d.stopped = record.stopped;
      d.lastError = record.lastError;
    }
    // Adopt first, synchronously: the predecessor stops reading app output once we say so.
    let adopted = 0;
    for (const record of records) {
      const d = this.#deployments.get(deploymentKey(record.app, record.env));
      const instance =
        d && !d.stopped
          ? adoptInstance(record, d.hooks, this.#options.config.probeTimeoutMs, (i) =>
              d.instances.set(i.id, i),
            )
          : undefined;
      if (instance) {
        adopted++;
        if (record.phase === "draining") d?.background(() => d.drainInstance(instance));
        continue;
      }
      if (isSameLiveProcess(record.pid, record.startTicks)) killGroup(record.pid);
      store.deleteInstance(record.id);
      FifoPool.remove({ out: record.outFifo, err: record.errFifo });
      d?.note(`instance ${record.id} exited while no supervisor watched it`, record.id);
    }
    this.#lease?.markAdopted();
    this.#fifos.prepare(new Set(records.flatMap((r) => [r.outFifo, r.errFifo])));
    this.#fifos.warm();
    for (const record of deployments) {
      if (!record.release) continue;
      const d = this.#deployment(record.app, record.env);
      try {
        d.prepared = await this.#launcher.prepare(record.release, { grant: false });
      } catch (err) {
        d.lastError = `release ${record.release.version} cannot be restored: ${(err as Error).message}`;
      }
    }
    this.#ownership = { kind: "owner" };
    this.#becomeOwner();
    for (const d of this.#deployments.values()) {
      d.publish();
      d.background(() => d.lock.run(() => d.converge()));
    }
    this.#log.info("took over app processes", {
      deployments: this.#deployments.size,
      adopted,
      takeOverMs: Date.now() - startedAt,
    });
  }

  #deployment(app: string, env: string): Deployment {
    const key = deploymentKey(app, env);
    let d = this.#deployments.get(key);
    if (!d) {
      const store = this.#store;
      if (!store) throw new TakoError("UNAVAILABLE", "the supervisor is not started");
      d = new Deployment(app, env, appDirs(this.#options.paths, app, env).logDir, {
        store,
        endpoints: this.endpoints,
        events: this.events,
        launcher: this.#launcher,
        config: this.#options.config,
        log: this.#log,
      });
      this.#deployments.set(key, d);
    }
    return d;
  }

  /** Resolves once this generation owns the app processes. */
  async owned(): Promise<void> {
    if (this.#ownership.kind === "owner") return;
    if (this.#ownership.kind === "retired") {
      throw new TakoError("UNAVAILABLE", "the supervisor is stopping; retry in a moment");
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.#owned,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new TakoError(
                  "SUPERVISOR_HANDOVER",
                  "the previous supervisor has not handed over its app processes yet",
                ),
              ),
            OWNERSHIP_WAIT_MS,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  #known(app: string, env: string): Deployment {
    const d = this.#deployments.get(deploymentKey(app, env));
    if (!d?.prepared) {
      throw new TakoError("APP_NOT_FOUND", `${app}/${env} is not deployed on this host`, {
        metadata: { app, env },
      });
    }
    return d;
  }

  // Operations (the RPC handlers call these)

  async apply(release: Release, progress: (detail: string) => void): Promise<RolloutResult> {
    await this.owned();
    const dirs = appDirs(this.#options.paths, release.app, release.env);
    const valid = await validateRelease(release, dirs.appDir);
    progress(`preparing release ${valid.version}`);
    const prepared = await this.#launcher.prepare(valid, { grant: true });
    return this.#deployment(valid.app, valid.env).apply(prepared, progress);
  }

  async scale(app: string, env: string, instances: number): Promise<void> {
    await this.owned();
    await this.#known(app, env).scale(instances);
  }

  async wake(app: string, env: string): Promise<{ instance: Instance; coldStart: boolean }> {
    await this.owned();
    const d = this.#deployments.get(deploymentKey(app, env));
    if (!d)
      throw new TakoError("APP_NOT_FOUND", `${app}/${env} is not deployed on this host`, {
        metadata: { app, env },
      });
    return d.wake();
  }

  async status(app: string, env: string): Promise<AppStatusView[]> {
    await this.owned();
    return [...this.#deployments.values()]
      .filter((d) => (app === "" || d.app === app) && (env === "" || d.env === env))
      .map((d) => d.status());
  }

  async stopApp(app: string, env: string, purge: boolean): Promise<{ stopped: number; existed: boolean }> {
    await this.owned();
    const key = deploymentKey(app, env);
    const d = this.#deployments.get(key);
    if (!d) {
      if (purge) await rm(appDirs(this.#options.paths, app, env).logDir, { recursive: true, force: true });
      return { stopped: 0, existed: false };
    }
    const stopped = await d.stop(purge);
    if (purge) this.#deployments.delete(key);
    return { stopped, existed: true };
  }

  /** The app's log (for the Logs RPC); undefined for an unknown deployment. */
  async logOf(app: string, env: string): Promise<Deployment["appLog"] | undefined> {
    await this.owned();
    return this.#deployments.get(deploymentKey(app, env))?.appLog;
  }

  async *watchEndpoints(signal: AbortSignal): AsyncGenerator<EndpointChange, void, undefined> {
    await this.owned();
    yield* this.endpoints.watch(signal);
  }

  async watchInstanceEvents(app: string, signal: AbortSignal): Promise<AsyncIterable<InstanceEvent>> {
    await this.owned();
    const current = () =>
      [...this.#deployments.values()].flatMap((d) =>
        [...d.instances.values()]
          .filter((i) => i.process && i.live)
          .map((i) => instanceEvent(i, i.phase.kind === "healthy" ? "healthy" : "spawned")),
      );
    return this.events.watch(app, current, signal);
  }

  // Lifecycle

  /**
   * "replaced": hand the processes over to the successor (they keep serving). Anything else:
   * stop every instance (SIGTERM, then SIGKILL at the deadline); stored state stays, so the next
   * start brings every deployment back.
   */
  async stop(deadlineMs: number, reason: StopReason): Promise<void> {
    const wasOwner = this.#ownership.kind === "owner";
    this.#ownership = { kind: "retired" };
    this.#life.abort();
    await this.#acquiring;
    const store = this.#store;
    const deployments = [...this.#deployments.values()];
    try {
      if (!wasOwner || !store) return;
      await Promise.all(deployments.map((d) => d.quiesce()));
      if (reason === "replaced") await this.#handOver(deployments);
      else await this.#shutDown(deployments, deadlineMs);
    } finally {
      await this.#fifos.close();
      await Promise.all(deployments.map((d) => d.appLog.close()));
      store?.close();
    }
  }

  async #handOver(deployments: Deployment[]): Promise<void> {
    const instances = deployments.flatMap((d) => [...d.instances.values()]);
    await Promise.all(instances.map((i) => i.release()));
    this.#lease?.release();
    this.#log.info("handed app processes over", { instances: instances.length });
    // Keep reading their output until the successor has its own readers open.
    const taken = await this.#lease?.waitForSuccessor(SUCCESSOR_WAIT_MS);
    if (!taken) this.#log.warn("no successor took over the app processes in time");
    for (const i of instances) i.closeOutputs();
  }

  async #shutDown(deployments: Deployment[], deadlineMs: number): Promise<void> {
    const drainTimeoutMs = Math.min(this.#options.config.drainTimeoutMs, Math.max(1000, deadlineMs / 2));
    const instances = deployments.flatMap((d) => [...d.instances.values()]);
    await Promise.all(instances.map((i) => i.stop({ graceMs: 0, drainTimeoutMs })));
    await Promise.all(deployments.map((d) => d.settle()));
    this.#lease?.release();
    this.#log.info("stopped app processes", { instances: instances.length });
  }
}
