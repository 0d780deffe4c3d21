import { rm, rmdir } from "node:fs/promises";
import { join } from "node:path";
import { checkAppEnv, checkName, checkVariables, checkVersion, secretsHash } from "@tako/appspec";
import type { HostPaths, Logger } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import {
  type AgentServiceSetDnsProviderRequest,
  AppState,
  type AppStatus,
  type LogEntry,
  type ReleaseInfo,
} from "@tako/proto";
import type { DeployEngine } from "../deploy/deploy-engine.js";
import type { Ports } from "../deploy/ports.js";
import { exists } from "../deploy/releases.js";
import type { StateStore } from "../store/state-store.js";

type Init<T> = Omit<T, "$typeName" | "$unknown">;
type StatusInit = Omit<Init<AppStatus>, "instances"> & { instances: AppStatus["instances"] };

export interface AppManagerDeps {
  readonly paths: HostPaths;
  readonly store: StateStore;
  readonly ports: Ports;
  readonly engine: DeployEngine;
  readonly log: Logger;
}

/** Most instances one app may ask for on one host (the original caps at 2 × CPUs). */
export const MAX_INSTANCES = 64;

/** Everything the management API does to deployed apps besides deploying them. */
export class AppManager {
  readonly #deps: AppManagerDeps;

  constructor(deps: AppManagerDeps) {
    this.#deps = deps;
  }

  #known(app: string, env: string) {
    const record = this.#deps.store.getApp(checkName("app", app), checkName("env", env));
    if (!record) {
      throw new TakoError("APP_NOT_FOUND", `${app}/${env} is not deployed on this host`, {
        metadata: { app, env },
      });
    }
    return record;
  }

  #supervisor() {
    const supervisor = this.#deps.ports.supervisor;
    if (!supervisor)
      throw new TakoError("DAEMON_UNREACHABLE", "the supervisor is not installed on this host");
    return supervisor;
  }

  async statRelease(app: string, env: string, version: string): Promise<boolean> {
    checkAppEnv({ app, env });
    return exists(this.#deps.engine.releaseDir(app, env, checkVersion(version)));
  }

  /** Every known app (or one), as the supervisor sees it, with routes and the live version. */
  async status(app: string, env: string): Promise<StatusInit[]> {
    if (app) checkName("app", app);
    if (env) checkName("env", env);
    const records = this.#deps.store
      .listApps()
      .filter((r) => (!app || r.app === app) && (!env || r.env === env));
    if (app && records.length === 0)
      throw new TakoError("APP_NOT_FOUND", `${app}${env ? `/${env}` : ""} is not deployed on this host`);
    const live = this.#deps.ports.supervisor ? await this.#deps.ports.supervisor.status(app, env) : [];
    return records.map((r) => {
      const s = live.find((l) => l.app === r.app && l.env === r.env);
      return {
        app: r.app,
        env: r.env,
        state: s?.state ?? AppState.STOPPED,
        version: r.currentVersion || s?.version || "",
        desiredInstances: s?.desiredInstances ?? 0,
        instances: s?.instances ?? [],
        routes: [...r.routes],
        lastError: s?.lastError ?? "",
      };
    });
  }

  async scale(app: string, env: string, instances: number): Promise<void> {
    this.#known(app, env);
    if (!Number.isInteger(instances) || instances < 0 || instances > MAX_INSTANCES) {
      throw new TakoError(
        "INVALID_ARGUMENT",
        `requested ${instances} instances; this host allows 0 to ${MAX_INSTANCES}`,
        {
          hint: "Use fewer instances, or spread traffic across more servers.",
        },
      );
    }
    await this.#supervisor().scale(app, env, instances);
  }

  listReleases(app: string, env: string): Init<ReleaseInfo>[] {
    const record = this.#known(app, env);
    return this.#deps.store.listReleases(app, env).map((r) => ({
      version: r.version,
      deployedAtUnixMs: BigInt(r.deployedAtUnixMs),
      current: r.version === record.currentVersion,
      commitMessage: r.commitMessage,
      gitDirty: r.gitDirty,
    }));
  }

  rollback(app: string, env: string, version: string, signal: AbortSignal) {
    this.#known(app, env);
    return this.#deps.engine.rollback(app, env, checkVersion(version), signal);
  }

  logs(
    req: { app: string; env: string; sinceUnixMs: bigint; tailLines: number; follow: boolean },
    signal: AbortSignal,
  ): AsyncIterable<LogEntry[]> {
    this.#known(req.app, req.env);
    const since = req.sinceUnixMs > 0n ? req.sinceUnixMs : BigInt(Date.now() - 3 * 24 * 3600 * 1000);
    return this.#supervisor().logs({ ...req, sinceUnixMs: since }, signal);
  }

  getSecretsHash(app: string, env: string): string {
    checkAppEnv({ app, env });
    return this.#deps.store.getSecrets(app, env).hash;
  }

  /** Stores the secrets, then rolls the live release so its instances get them on fd 3. */
  async setSecrets(app: string, env: string, secrets: Record<string, string>, signal: AbortSignal) {
    const record = this.#known(app, env);
    const values = checkVariables("secrets", secrets);
    const hash = secretsHash(values);
    const unlock = this.#deps.engine.lock(app, env);
    try {
      this.#deps.store.putSecrets(app, env, values, hash);
      if (!record.currentVersion || !this.#deps.ports.supervisor) return { hash, restarted: false };
      const spec = await this.#deps.engine.specFor(app, env, record.currentVersion);
      for await (const p of this.#deps.ports.supervisor.apply(spec, signal))
        this.#deps.log.debug("secrets rollout", { detail: p.detail });
      return { hash, restarted: true };
    } finally {
      unlock();
    }
  }

  /** Stops the app and removes its routes, releases, data and records. Idempotent. */
  async deleteApp(app: string, env: string): Promise<boolean> {
    checkAppEnv({ app, env });
    const unlock = this.#deps.engine.lock(app, env);
    try {
      const stopped = this.#deps.ports.supervisor
        ? (await this.#deps.ports.supervisor.stop(app, env, true)).existed
        : false;
      await this.#deps.ports.edge?.removeRoutes(app, env);
      const dir = this.#deps.paths.appDir(app, env);
      const hadFiles = await exists(dir);
      await rm(dir, { recursive: true, force: true });
      await rmdir(join(this.#deps.paths.appsDir, app)).catch(() => undefined); // only when no env is left
      const known = this.#deps.store.deleteApp(app, env);
      this.#deps.log.info("app deleted", { app, env });
      return known || stopped || hadFiles;
    } finally {
      unlock();
    }
  }

  async setDnsProvider(req: Init<AgentServiceSetDnsProviderRequest>): Promise<void> {
    if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(req.zone)) {
      throw new TakoError("INVALID_ARGUMENT", `"${req.zone}" is not a DNS zone name`, {
        hint: "For example: example.com",
      });
    }
    if (req.provider.case === undefined)
      throw new TakoError("INVALID_ARGUMENT", "choose a DNS provider: cloudflare or rfc2136");
    if (req.provider.case === "cloudflare") checkVariables("secrets", { TOKEN: req.provider.value.apiToken });
    const certd = this.#deps.ports.certd;
    if (!certd) throw new TakoError("DAEMON_UNREACHABLE", "certd is not installed on this host");
    await certd.setDnsProvider(req);
  }
}
