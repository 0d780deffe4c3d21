import type { Logger } from "@tako/daemon";
import { ChallengeStore } from "./acme/challenge-store.js";
import { ColdStarter, type WokenEndpoint } from "./coldstart/cold-starter.js";
import type { EdgeConfig } from "./config.js";
import { ClientLimiter } from "./http/client-limiter.js";
import { EdgeHandler } from "./http/edge-handler.js";
import { createRedirectHandler } from "./http/redirect-handler.js";
import { EdgeMetrics, type InstanceGauge } from "./metrics/edge-metrics.js";
import { UpstreamProxy } from "./proxy/upstream-proxy.js";
import { RouteRegistry } from "./routing/route-registry.js";
import { EdgeListeners } from "./server/edge-listeners.js";
import type { StoredRoutes } from "./store/route-store.js";
import { CertificateStore } from "./tls/certificate-store.js";
import { DeploymentDirectory } from "./upstream/deployment-directory.js";
import { EndpointState } from "./upstream/endpoint-state.js";

export interface EdgeRuntimeOptions {
  readonly config: EdgeConfig;
  readonly log: Logger;
  /** Persists the routing table (the process that owns edge.sock); others never write. */
  readonly saveRoutes: (routes: readonly StoredRoutes[]) => Promise<void>;
  readonly wake: (app: string, env: string, signal: AbortSignal) => Promise<WokenEndpoint>;
  /** Edge processes serving traffic in this generation (the per-IP cap is shared out). */
  readonly processes: number;
  /** TLS session ticket keys (48 bytes), the same in every process of the generation. */
  readonly ticketKeys: Buffer;
  /** Called after every change of the routing table (the primary forwards it to its helpers). */
  readonly onRoutesChange?: () => void;
}

/**
 * Everything one edge process needs to serve traffic: the live state the hot path reads
 * (routes, deployments and their instances, certificates, challenges) and the listeners. Every
 * piece of state arrives through `registry`, `applyEndpoints`, `certificates.apply` and
 * `challenges.apply`, from RPC and watches in the process that owns edge.sock, or by IPC from it.
 */
export class EdgeRuntime {
  readonly directory = new DeploymentDirectory();
  readonly metrics = new EdgeMetrics();
  readonly challenges = new ChallengeStore();
  readonly endpoints: EndpointState;
  readonly certificates: CertificateStore;
  readonly registry: RouteRegistry;
  readonly listeners: EdgeListeners;
  /** Aborted once this process has drained: wakes still pending are abandoned. */
  readonly #lifetime = new AbortController();

  constructor(options: EdgeRuntimeOptions) {
    const { config, log } = options;
    this.endpoints = new EndpointState({
      directory: this.directory,
      log,
      upstreamTimeoutMs: config.upstreamTimeoutMs,
    });
    this.registry = new RouteRegistry({
      directory: this.directory,
      save: options.saveRoutes,
      onChange: () => options.onRoutesChange?.(),
    });
    const proxy = new UpstreamProxy({ metrics: this.metrics });
    const coldStarter = new ColdStarter({
      wake: options.wake,
      adopt: (deployment, endpoint) => this.endpoints.adopt(deployment, endpoint),
      timeoutMs: config.coldStartTimeoutMs,
      queueMax: config.coldStartQueueMax,
      metrics: this.metrics,
      log,
      signal: this.#lifetime.signal,
    });
    const registry = this.registry;
    const handler = new EdgeHandler({
      routes: () => registry.table,
      proxy,
      coldStarter,
      limiter: new ClientLimiter(Math.max(1, Math.ceil(config.maxRequestsPerIp / options.processes))),
      metrics: this.metrics,
      maxBodyBytes: config.maxBodyBytes,
    });
    this.listeners = new EdgeListeners({
      metrics: this.metrics,
      handleHttps: handler.handle,
      directHttps: handler.direct,
      upgradeHttps: handler.upgrade,
      handleHttp: createRedirectHandler({
        challenges: this.challenges,
        httpsPort: config.httpsPort,
        metrics: this.metrics,
      }),
      sni: (name) => this.certificates.lookup(name),
      headersTimeoutMs: config.headersTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      handshakeTimeoutMs: config.handshakeTimeoutMs,
      ticketKeys: options.ticketKeys,
    });
    this.certificates = new CertificateStore(log, options.ticketKeys, (def) =>
      this.listeners.setDefaultCertificate(def.certChainPem, def.privateKeyPem, options.ticketKeys),
    );
  }

  /** Healthy and desired instance counts of every routed or supervised deployment. */
  instanceGauges(): InstanceGauge[] {
    const out: InstanceGauge[] = [];
    for (const d of this.directory.all()) {
      out.push({ app: d.app, env: d.env, healthy: d.upstreams.length, desired: d.desiredInstances });
    }
    return out;
  }

  /** Soft drain of the listeners, then every upstream connection is closed. */
  async drain(deadlineMs: number): Promise<void> {
    await this.listeners.drain(deadlineMs);
    this.#lifetime.abort();
    this.endpoints.close();
  }
}
