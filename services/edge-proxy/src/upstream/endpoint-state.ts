import type { Logger } from "@tako/daemon";
import { PublicFiles } from "../static/public-files.js";
import type { Deployment, Upstream } from "./deployment.js";
import type { DeploymentDirectory } from "./deployment-directory.js";
import { UpstreamPool } from "./upstream-pool.js";

/** One {app}/{env} of the supervisor's endpoint stream, as plain data (it also crosses IPC). */
export interface AppEndpointsData {
  readonly app: string;
  readonly env: string;
  readonly endpoints: readonly {
    readonly instanceId: string;
    readonly host: string;
    readonly port: number;
  }[];
  readonly desiredInstances: number;
  readonly releaseDir: string;
}

/** One message of the stream: a snapshot replaces everything, a change updates some apps. */
export interface EndpointUpdate {
  readonly snapshot: boolean;
  readonly apps: readonly AppEndpointsData[];
  /** "{app}/{env}" */
  readonly removed: readonly string[];
}

/**
 * Idle connections kept per instance (per edge process). Above the concurrency an instance sees,
 * so a burst's connections are reused by the next burst instead of closed and opened again
 * (measured on bench/edge with one process at 500 connections: 256 churned connections, 110 →
 * 87 µs CPU per request). What bounds them is the instance's own keep-alive timeout, which the
 * pool honours, and --upstream-timeout-ms.
 */
const MAX_IDLE_PER_UPSTREAM = 1024;

export interface EndpointStateOptions {
  readonly directory: DeploymentDirectory;
  readonly log: Logger;
  /** Idle keep-alive connections to one instance kept open. */
  readonly maxIdlePerUpstream?: number;
  /** An instance that sends nothing for this long fails the request (502). */
  readonly upstreamTimeoutMs: number;
}

/**
 * Applies the supervisor's endpoint stream to the deployments the hot path reads: the healthy
 * instances (each with its own keep-alive connections, kept while the instance stays healthy), the
 * desired count, and the release whose public/ files are served.
 */
export class EndpointState {
  readonly #options: EndpointStateOptions;
  readonly #upstreams = new Map<string, Upstream>();
  #snapshotSeen = false;
  readonly #indexing = new Set<Promise<void>>();

  constructor(options: EndpointStateOptions) {
    this.#options = options;
  }

  /** Whether a snapshot arrived since start (before it, "no instance" means "not known yet"). */
  get ready(): boolean {
    return this.#snapshotSeen;
  }

  apply(update: EndpointUpdate): void {
    const { directory } = this.#options;
    const seen = new Set<string>();
    for (const app of update.apps) {
      const deployment = directory.get(app.app, app.env);
      seen.add(deployment.key);
      this.#applyApp(deployment, app);
    }
    const forget = (d: Deployment) => {
      d.upstreams = [];
      d.desiredInstances = undefined;
      d.releaseDir = "";
      d.publicFiles = undefined;
    };
    if (update.snapshot) {
      for (const d of directory.all()) if (!seen.has(d.key)) forget(d);
      this.#snapshotSeen = true;
    }
    for (const key of update.removed) {
      const d = directory.find(key);
      if (d) forget(d);
    }
    this.#releaseUnused();
  }

  /**
   * Makes an instance routable at once (a wake answered with it) before the endpoint stream
   * reports it; the stream's next message for the deployment replaces the list as usual.
   */
  adopt(deployment: Deployment, endpoint: { instanceId: string; host: string; port: number }): Upstream {
    const upstream = this.#upstream(endpoint.instanceId, endpoint.host, endpoint.port);
    if (!deployment.upstreams.includes(upstream)) deployment.upstreams = [...deployment.upstreams, upstream];
    return upstream;
  }

  /** Resolves once every public/ index started so far is built. */
  async settled(): Promise<void> {
    while (this.#indexing.size > 0) await Promise.all(this.#indexing);
  }

  /** Closes every keep-alive connection (at stop). */
  close(): void {
    for (const u of this.#upstreams.values()) u.pool.retire();
    this.#upstreams.clear();
  }

  #applyApp(deployment: Deployment, app: AppEndpointsData): void {
    deployment.upstreams = app.endpoints.map((e) => this.#upstream(e.instanceId, e.host, e.port));
    deployment.desiredInstances = app.desiredInstances;
    if (deployment.releaseDir !== app.releaseDir) {
      deployment.releaseDir = app.releaseDir;
      deployment.publicFiles = undefined;
      const releaseDir = app.releaseDir;
      const building = PublicFiles.index(releaseDir).then(
        (files) => {
          if (deployment.releaseDir !== releaseDir) return; // a newer release arrived meanwhile
          deployment.publicFiles = files;
          if (files.truncated) {
            this.#options.log.warn("public directory too large; the rest is left to the app", {
              app: deployment.app,
              env: deployment.env,
              indexed: files.size,
            });
          }
        },
        (err: unknown) =>
          this.#options.log.error("cannot index public files", {
            app: deployment.app,
            env: deployment.env,
            error: err,
          }),
      );
      this.#indexing.add(building);
      void building.finally(() => this.#indexing.delete(building));
    }
  }

  #upstream(instanceId: string, host: string, port: number): Upstream {
    const key = `${instanceId}|${host}|${port}`;
    let upstream = this.#upstreams.get(key);
    if (!upstream) {
      upstream = {
        instanceId,
        host,
        port,
        target: { protocol: "http:", host, port },
        pool: new UpstreamPool(host, port, {
          maxIdle: this.#options.maxIdlePerUpstream ?? MAX_IDLE_PER_UPSTREAM,
          timeoutMs: this.#options.upstreamTimeoutMs,
        }),
      };
      this.#upstreams.set(key, upstream);
    }
    return upstream;
  }

  /**
   * An instance that left the healthy set keeps its requests in flight (they finish on their
   * connections); its idle keep-alive connections are closed and its pool dropped.
   */
  #releaseUnused(): void {
    const used = new Set<Upstream>();
    for (const d of this.#options.directory.all()) for (const u of d.upstreams) used.add(u);
    for (const [key, upstream] of this.#upstreams) {
      if (used.has(upstream)) continue;
      this.#upstreams.delete(key);
      upstream.pool.retire();
    }
  }
}
