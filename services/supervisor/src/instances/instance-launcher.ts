import type { HostPaths } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import type { Release } from "../release.js";
import { type AppDirs, appDirs, grantRelease, prepareAppDirs } from "../spawn/app-dirs.js";
import { type AppIdentity, AppUsers } from "../spawn/app-user.js";
import { prepareEntry } from "../spawn/entry-compiler.js";
import type { FifoPool } from "../spawn/fifo-pool.js";
import { internalSocketPath } from "../spawn/internal-socket.js";
import { bootstrapEnvelope, instanceEnv, newInstanceId, newToken } from "../spawn/spawn-contract.js";
import { spawnInstance } from "../spawn/spawner.js";
import { Instance, type InstanceHooks } from "./instance.js";

/** A release made ready to spawn: validated, compiled if TypeScript, readable by the app's user. */
export interface PreparedRelease {
  readonly release: Release;
  /** Absolute path of the JS module the SDK entrypoint imports. */
  readonly entry: string;
  readonly identity: AppIdentity | undefined;
  readonly dirs: AppDirs;
}

export interface LauncherOptions {
  readonly paths: HostPaths;
  readonly fifos: FifoPool;
  readonly sdkEntrypoint: string;
  readonly probeTimeoutMs: number;
}

/** Turns releases into running, healthy instances (the spawn contract end to end). */
export class InstanceLauncher {
  readonly #options: LauncherOptions;
  readonly #users = new AppUsers();
  #sdkEntrypoint: string;

  constructor(options: LauncherOptions) {
    this.#options = options;
    this.#sdkEntrypoint = options.sdkEntrypoint;
  }

  /** Spawns use this entrypoint from now on (the bundled one, once it is built). */
  useSdkEntrypoint(path: string): void {
    this.#sdkEntrypoint = path;
  }

  /**
   * Everything a release needs before its first spawn, done once per release (at Apply, or when a
   * restarted supervisor restores it): app user, directories, TypeScript compiled, permissions.
   */
  async prepare(release: Release, options: { grant: boolean }): Promise<PreparedRelease> {
    const identity = AppUsers.enabled ? await this.#users.ensure(release.app, release.env) : undefined;
    const dirs = appDirs(this.#options.paths, release.app, release.env);
    await prepareAppDirs(this.#options.paths, dirs, identity);
    const entry = await prepareEntry(release.releaseDir, release.main);
    // Walking a release is slow for a large node_modules: done at Apply, not on every restore.
    if (identity && options.grant) await grantRelease(release.releaseDir, identity);
    return { release, entry, identity, dirs };
  }

  /** A new instance of the release, not started yet (so it can be registered first). */
  create(prepared: PreparedRelease, generation: number, hooks: InstanceHooks): Instance {
    const id = newInstanceId();
    return new Instance({
      id,
      app: prepared.release.app,
      env: prepared.release.env,
      generation,
      version: prepared.release.version,
      token: newToken(),
      startedAtMs: Date.now(),
      fifos: this.#options.fifos.take(id),
      probeTimeoutMs: this.#options.probeTimeoutMs,
      hooks,
    });
  }

  /**
   * Spawns the instance and resolves once it passed its first health probe (it is then in
   * traffic). Aborting `life` (the supervisor is stopping or handing over) cancels the start.
   */
  async start(instance: Instance, prepared: PreparedRelease, life: AbortSignal): Promise<void> {
    const { release } = prepared;
    const signal = AbortSignal.any([instance.startAbort.signal, life]);
    if (signal.aborted)
      throw new TakoError("UNAVAILABLE", "the supervisor is stopping; no instance was started");
    const startedAt = Date.now();
    const spawned = await spawnInstance({
      release,
      entry: prepared.entry,
      sdkEntrypoint: this.#sdkEntrypoint,
      instanceId: instance.id,
      env: instanceEnv(release, {
        dataDir: prepared.dirs.dataDir,
        internalSocket: internalSocketPath(this.#options.paths, release.app, release.env),
      }),
      envelope: bootstrapEnvelope({
        token: instance.token,
        instanceId: instance.id,
        version: release.version,
        secrets: release.secrets,
      }),
      identity: prepared.identity,
      fifos: instance.fifos,
      ...instance.outputHandlers(),
      signal,
    });
    instance.run(spawned.process, spawned.port, spawned.outputs, "ready");
    const remainingMs = Math.max(1000, release.startupTimeoutMs - (Date.now() - startedAt));
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () =>
        reject(new TakoError("UNAVAILABLE", "the supervisor is stopping; the start was cancelled"));
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      await Promise.race([instance.untilHealthy(remainingMs), aborted]);
    } finally {
      signal.removeEventListener("abort", onAbort);
      aborted.catch(() => undefined);
    }
  }
}
