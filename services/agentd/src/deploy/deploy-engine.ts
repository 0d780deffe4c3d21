import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  checkAppEnv,
  checkRoutes,
  checkVariables,
  checkVersion,
  routeHost,
  secretsHash,
} from "@tako/appspec";
import { extractArtifact } from "@tako/artifact";
import type { HostPaths, Logger } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import type { DeployDone, DeployRequest, DeployStart } from "@tako/proto";
import { swapSymlink } from "@tako/rpc";
import type { LockOwner, StateStore } from "../store/state-store.js";
import { installRelease } from "./install.js";
import type { Ports } from "./ports.js";
import { runReleaseCommand } from "./release-command.js";
import { exists, pruneReleases, readManifest } from "./releases.js";
import { type DeployEvent, Steps } from "./steps.js";
import { receiveArtifact } from "./upload.js";

export type { DeployEvent };

type DoneInit = Omit<DeployDone, "$typeName" | "$unknown">;
type ReleaseSpecInit = Parameters<NonNullable<Ports["supervisor"]>["apply"]>[0];

export interface DeployLimits {
  readonly installTimeoutMs: number;
  readonly releaseCommandTimeoutMs: number;
  /** Releases kept per app/env, the live one included. */
  readonly keepReleases: number;
}

export interface DeployEngineDeps {
  readonly paths: HostPaths;
  readonly store: StateStore;
  readonly ports: Ports;
  readonly sdkDir: string;
  readonly log: Logger;
  readonly limits: DeployLimits;
  readonly lockOwner: LockOwner;
  readonly isAlive: (owner: LockOwner) => boolean;
  readonly httpsPort: number;
}

/**
 * One deploy of one {app}/{env} on this host, driven by the Deploy stream: lock, receive and
 * extract the artifact, install, [barrier], release command (leader only), certificates, rolling
 * update, routes, `current`. Any failure names the step and leaves the previous release serving.
 */
export class DeployEngine {
  readonly #deps: DeployEngineDeps;

  constructor(deps: DeployEngineDeps) {
    this.#deps = deps;
  }

  releaseDir(app: string, env: string, version: string): string {
    return join(this.#deps.paths.appDir(app, env), "releases", version);
  }

  async *deploy(input: AsyncIterator<DeployRequest>, signal: AbortSignal): AsyncGenerator<DeployEvent> {
    const first = await input.next();
    if (first.done || first.value.msg.case !== "start") {
      throw new TakoError("INVALID_ARGUMENT", "a deploy stream must begin with a start message");
    }
    const start = this.#validateStart(first.value.msg.value);
    const { app, env, version } = start;
    const log = this.#deps.log.child({ app, env, version });
    const steps = new Steps();
    const unlock = this.#lock(app, env);
    try {
      const releaseDir = this.releaseDir(app, env, version);
      const present = await exists(releaseDir);
      yield { msg: { case: "accepted", value: { uploadRequired: !present } } };
      if (!present) {
        yield steps.start("upload");
        const file = await receiveArtifact(
          {
            dir: join(this.#deps.paths.appDir(app, env), ".uploads"),
            version,
            sizeBytes: Number(start.artifactSizeBytes),
            sha256: start.artifactSha256,
          },
          async () => {
            const next = await input.next();
            if (next.done) return undefined;
            if (next.value.msg.case !== "chunk")
              throw new TakoError("INVALID_ARGUMENT", "expected artifact chunks after start");
            return next.value.msg.value;
          },
        );
        yield steps.finish(`${start.artifactSizeBytes} bytes`);
        yield steps.start("extract");
        try {
          const r = await extractArtifact(file, releaseDir);
          yield steps.finish(`${r.files} files`);
        } finally {
          await rm(file, { force: true });
        }
        yield steps.start("install");
        try {
          const r = await installRelease({
            releaseDir,
            sdkDir: this.#deps.sdkDir,
            npmDir: join(this.#deps.paths.stateDir, "npm"),
            timeoutMs: this.#deps.limits.installTimeoutMs,
            signal,
          });
          yield steps.finish(r.ranNpm ? "production dependencies installed" : "no dependencies");
        } catch (err) {
          await rm(releaseDir, { recursive: true, force: true }); // never leave a half-installed release
          throw err;
        }
      }
      const manifest = await readManifest(releaseDir);
      this.#deps.store.putRelease(app, env, {
        version,
        deployedAtUnixMs: Date.now(),
        commitMessage: manifest.commitMessage,
        gitDirty: manifest.gitDirty,
      });
      yield { msg: { case: "prepared", value: {} } };
      const go = await input.next();
      if (go.done || go.value.msg.case !== "proceed") {
        throw new TakoError(
          "CANCELED",
          "the deploy was cancelled before the rollout (no proceed from the client)",
        );
      }

      const previous = this.#deps.store.getApp(app, env);
      if (start.secrets) {
        this.#deps.store.putSecrets(app, env, start.secrets.values, secretsHash(start.secrets.values));
      }
      const secrets = this.#deps.store.getSecrets(app, env).values;
      if (start.leader && start.releaseCommand) {
        yield steps.start("release", start.releaseCommand);
        const dataDir = join(this.#deps.paths.appDir(app, env), "data/app");
        await mkdir(dataDir, { recursive: true, mode: 0o750 }); // the app's data dir, also the command's HOME
        await runReleaseCommand({
          command: start.releaseCommand,
          releaseDir,
          dataDir,
          app,
          env,
          version,
          vars: start.vars,
          secrets,
          timeoutMs: this.#deps.limits.releaseCommandTimeoutMs,
          signal,
        });
        yield steps.finish();
      }
      const hosts = [...new Set(start.routes.map(routeHost))];
      yield* this.#certificates(steps, hosts, app, env);
      const rollout = yield* this.rollTo(steps, signal, log, previous?.currentVersion, start.routes, {
        app,
        env,
        version,
        releaseDir,
        main: manifest.main,
        vars: start.vars,
        secrets,
        idleTimeoutMs: start.idleTimeoutMs,
        startupTimeoutMs: 0n,
      });
      this.#deps.store.putApp({
        app,
        env,
        currentVersion: version,
        routes: start.routes,
        vars: start.vars,
        releaseCommand: start.releaseCommand,
        idleTimeoutMs: Number(start.idleTimeoutMs),
      });
      await this.prune(app, env, version);
      const done: DoneInit = {
        version,
        previousVersion: previous?.currentVersion ?? "",
        newInstances: rollout.newInstances,
        oldInstances: rollout.oldInstances,
        urls: start.routes.map((r) => this.#url(r)),
      };
      log.info("deployed", { previous: done.previousVersion });
      yield { msg: { case: "done", value: done } };
    } catch (err) {
      throw this.#failedAt(err, steps, app, env, "deploy");
    } finally {
      unlock();
    }
  }

  async *#certificates(steps: Steps, hosts: string[], app: string, env: string): AsyncGenerator<DeployEvent> {
    const certd = this.#deps.ports.certd;
    if (hosts.length === 0) return;
    yield steps.start("certificates", hosts.join(", "));
    if (!certd) {
      yield steps.finish("skipped: certd is not installed on this host");
      return;
    }
    const certs = await certd.ensureCertificates(hosts, app, env);
    yield steps.finish(`${certs.length} certificate(s) in place`);
  }

  /**
   * Rolling update onto `spec`, then the routes and `current`. When the routes fail after the
   * new release already serves, the previous release is rolled back in before the error.
   */
  async *rollTo(
    steps: Steps,
    signal: AbortSignal,
    log: Logger,
    previousVersion: string | undefined,
    routes: readonly string[],
    spec: ReleaseSpecInit,
  ): AsyncGenerator<DeployEvent, { newInstances: number; oldInstances: number }> {
    const result = yield* this.#rollout(steps, signal, spec);
    try {
      yield* this.#routesAndActivate(steps, spec.app, spec.env, spec.version, routes);
    } catch (err) {
      if (previousVersion && previousVersion !== spec.version)
        await this.#restore(previousVersion, spec.app, spec.env, signal, log);
      throw err;
    }
    return result;
  }

  /** Rolls {app}/{env} back to a kept release, with the same rolling update as a deploy. */
  async *rollback(
    app: string,
    env: string,
    version: string,
    signal: AbortSignal,
  ): AsyncGenerator<DeployEvent> {
    const log = this.#deps.log.child({ app, env, version, op: "rollback" });
    const steps = new Steps();
    const unlock = this.#lock(app, env);
    try {
      const spec = await this.specFor(app, env, version);
      const record = this.#deps.store.getApp(app, env);
      const rollout = yield* this.rollTo(
        steps,
        signal,
        log,
        record?.currentVersion,
        record?.routes ?? [],
        spec,
      );
      if (record) this.#deps.store.putApp({ ...record, currentVersion: version });
      log.info("rolled back", { previous: record?.currentVersion });
      yield {
        msg: {
          case: "done",
          value: {
            version,
            previousVersion: record?.currentVersion ?? "",
            newInstances: rollout.newInstances,
            oldInstances: rollout.oldInstances,
            urls: (record?.routes ?? []).map((r) => this.#url(r)),
          },
        },
      };
    } catch (err) {
      throw this.#failedAt(err, steps, app, env, "rollback");
    } finally {
      unlock();
    }
  }

  #failedAt(err: unknown, steps: Steps, app: string, env: string, what: string): TakoError {
    const cause = TakoError.is(err)
      ? err
      : new TakoError("INTERNAL", String((err as Error)?.message ?? err), { cause: err });
    this.#deps.log.warn(`${what} failed`, { app, env, step: steps.current, error: cause.message });
    if (cause.reason === "DEPLOY_LOCKED" || cause.reason === "CANCELED" || steps.current === "start")
      return cause;
    return new TakoError(
      cause.reason,
      `${what} of ${app}/${env} failed at step "${steps.current}": ${cause.message}`,
      {
        metadata: { ...cause.metadata, app, env, step: steps.current },
        hint: cause.hint,
        cause,
      },
    );
  }

  async *#rollout(
    steps: Steps,
    signal: AbortSignal,
    spec: ReleaseSpecInit,
  ): AsyncGenerator<DeployEvent, { newInstances: number; oldInstances: number }> {
    yield steps.start("rollout");
    const supervisor = this.#deps.ports.supervisor;
    if (!supervisor) {
      throw new TakoError(
        "DAEMON_UNREACHABLE",
        "the supervisor is not installed on this host, so nothing can run the app",
      );
    }
    let result = { newInstances: 0, oldInstances: 0 };
    for await (const p of supervisor.apply(spec, signal)) {
      if (p.done) result = { newInstances: p.newInstances, oldInstances: p.oldInstances };
      else if (p.detail) yield steps.progress(p.detail);
    }
    yield steps.finish(`${result.newInstances} new instance(s), ${result.oldInstances} stopped`);
    return result;
  }

  async *#routesAndActivate(
    steps: Steps,
    app: string,
    env: string,
    version: string,
    routes: readonly string[],
  ) {
    yield steps.start("routes", routes.join(", "));
    if (this.#deps.ports.edge) await this.#deps.ports.edge.setRoutes(app, env, routes);
    yield steps.finish(this.#deps.ports.edge ? "" : "skipped: edge-proxy is not installed on this host");
    yield steps.start("activate");
    await swapSymlink(join(this.#deps.paths.appDir(app, env), "current"), this.releaseDir(app, env, version));
    yield steps.finish(`current → ${version}`);
  }

  async #restore(version: string, app: string, env: string, signal: AbortSignal, log: Logger): Promise<void> {
    try {
      const spec = await this.specFor(app, env, version);
      const progress = this.#deps.ports.supervisor?.apply(spec, signal);
      // Progress of the restore is not reported; its failure is logged below.
      if (progress)
        for await (const p of progress) log.debug("restoring previous release", { detail: p.detail });
    } catch (err) {
      log.error("could not restore the previous release", { previous: version, error: err });
    }
  }

  /** The ReleaseSpec of a kept release of a known app (for rollbacks and secret changes). */
  async specFor(app: string, env: string, version: string): Promise<ReleaseSpecInit> {
    const record = this.#deps.store.getApp(app, env);
    if (!record) throw new TakoError("APP_NOT_FOUND", `${app}/${env} is not deployed on this host`);
    const releaseDir = this.releaseDir(app, env, version);
    if (!(await exists(releaseDir))) {
      throw new TakoError(
        "RELEASE_NOT_FOUND",
        `release ${version} of ${app}/${env} is not kept on this host`,
      );
    }
    const manifest = await readManifest(releaseDir);
    return {
      app,
      env,
      version,
      releaseDir,
      main: manifest.main,
      vars: { ...record.vars },
      secrets: this.#deps.store.getSecrets(app, env).values,
      idleTimeoutMs: BigInt(record.idleTimeoutMs),
      startupTimeoutMs: 0n,
    };
  }

  /** Keeps the live release and the newest others, up to keepReleases in all. */
  prune(app: string, env: string, live: string): Promise<string[]> {
    return pruneReleases(
      this.#deps.store,
      join(this.#deps.paths.appDir(app, env), "releases"),
      app,
      env,
      live,
      this.#deps.limits.keepReleases,
    );
  }

  /** Holds the {app}/{env} deploy lock until the returned function is called. */
  lock(app: string, env: string): () => void {
    return this.#lock(app, env);
  }

  #lock(app: string, env: string): () => void {
    const holder = this.#deps.store.tryLock(app, env, this.#deps.lockOwner, this.#deps.isAlive);
    if (holder) {
      const seconds = Math.round((Date.now() - holder.acquiredAtUnixMs) / 1000);
      throw new TakoError(
        "DEPLOY_LOCKED",
        `a deploy of ${app}/${env} is already in progress on this server (started ${seconds} s ago). Please wait for it to finish and try again.`,
        { metadata: { app, env } },
      );
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#deps.store.unlock(app, env, this.#deps.lockOwner);
    };
  }

  #validateStart(raw: DeployStart) {
    const { app, env } = checkAppEnv(raw);
    return {
      app,
      env,
      version: checkVersion(raw.version),
      artifactSha256: raw.artifactSha256,
      artifactSizeBytes: raw.artifactSizeBytes,
      routes: checkRoutes(raw.routes),
      vars: checkVariables("vars", raw.vars),
      releaseCommand: raw.releaseCommand,
      leader: raw.leader,
      idleTimeoutMs: raw.idleTimeoutMs,
      secrets: raw.secrets ? { values: checkVariables("secrets", raw.secrets.values) } : undefined,
    };
  }

  /** "https://example.com:8443/app/" for "example.com/app/*"; wildcards stay as patterns. */
  #url(route: string): string {
    const port = this.#deps.httpsPort === 443 ? "" : `:${this.#deps.httpsPort}`;
    const host = routeHost(route);
    const path = route.slice(host.length).replace(/\*$/, "") || "/";
    return `https://${host}${port}${path}`;
  }
}
