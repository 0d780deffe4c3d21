import type { IncomingMessage } from "node:http";
import type { Duplex, Readable } from "node:stream";
import type { ColdStarter, WaitResult } from "../coldstart/cold-starter.js";
import type { EdgeMetrics } from "../metrics/edge-metrics.js";
import type { Forwarded, ProxyResponse, UpstreamProxy } from "../proxy/upstream-proxy.js";
import { stripRoutePrefix } from "../routing/route-pattern.js";
import type { Route, RouteTable } from "../routing/route-table.js";
import type { FrontRequest, FrontResponse } from "../server/http1-front.js";
import { looksLikeAsset, normalizeStaticPath, type PublicFile } from "../static/public-files.js";
import { type EdgeRequest, type EdgeResponse, sendPublicFile } from "../static/static-response.js";
import { type Deployment, nextUpstream, type Upstream } from "../upstream/deployment.js";
import { BodyLimit } from "./body-limit.js";
import type { ClientLimiter } from "./client-limiter.js";
import { sendPlain } from "./plain-response.js";
import { requestIdFor } from "./request-id.js";
import { hostOf, pathOf } from "./request-target.js";

export interface EdgeHandlerDeps {
  /** The routing table in force (swapped whole when routes change). */
  readonly routes: () => RouteTable<Deployment>;
  readonly proxy: UpstreamProxy;
  readonly coldStarter: ColdStarter;
  readonly limiter: ClientLimiter;
  readonly metrics: EdgeMetrics;
  readonly maxBodyBytes: number;
}

type Lookup =
  | { readonly kind: "file"; readonly file: PublicFile }
  | { readonly kind: "bad" }
  | { readonly kind: "none" };

/**
 * The HTTPS request pipeline: request id → body limit → host → route (unknown host: 404) →
 * per-IP cap (429) → static file from the live release's public/ → a healthy instance, or a cold
 * start when the app is scaled to zero.
 */
export class EdgeHandler {
  readonly #deps: EdgeHandlerDeps;

  constructor(deps: EdgeHandlerDeps) {
    this.#deps = deps;
  }

  readonly handle = (req: EdgeRequest, res: EdgeResponse): void => {
    const startedAt = performance.now();
    // Echoed in every answer: set here on the edge's own answers; on an instance's, appended by
    // the proxy (one header list for Node to write instead of a merge into set headers).
    const requestId = requestIdFor(req.headers["x-request-id"]);

    const length = req.headers["content-length"];
    if (length !== undefined && Number(length) > this.#deps.maxBodyBytes) {
      this.#finish(res, "", startedAt, requestId);
      sendPlain(res, 413, "Payload Too Large", { connection: "close" });
      return;
    }
    const host = hostOf(req);
    if (host === undefined) {
      this.#finish(res, "", startedAt, requestId);
      sendPlain(res, 400, "Bad Request");
      return;
    }
    const path = pathOf(req.url);
    const route = this.#deps.routes().match(host, path);
    if (!route) {
      this.#finish(res, "", startedAt, requestId);
      sendPlain(res, 404, "Not Found");
      return;
    }
    const deployment = route.target;
    const ip = req.socket.remoteAddress ?? "";
    if (!this.#deps.limiter.acquire(ip)) {
      this.#finish(res, deployment.key, startedAt, requestId);
      sendPlain(res, 429, "Too Many Requests", { "retry-after": "1" });
      return;
    }
    this.#account(res, ip, deployment.key, startedAt);
    const body =
      length === undefined && req.method !== "GET" && req.method !== "HEAD"
        ? this.#limitStreamedBody(req, res, requestId)
        : undefined;

    // X-Forwarded-*, X-Request-ID: written by the proxy in place of any the client sent (as are
    // X-Tako-Internal-Token, Forwarded and hop-by-hop headers, dropped); the request's headers
    // are left as parsed.
    const forwarded: Forwarded = { ip, host, requestId };

    if ((req.method === "GET" || req.method === "HEAD") && deployment.publicFiles && looksLikeAsset(path)) {
      const found = this.#lookupStatic(route, path);
      if (found.kind !== "none") res.setHeader("x-request-id", requestId);
      if (found.kind === "bad") {
        sendPlain(res, 400, "Bad Request");
        return;
      }
      if (found.kind === "file") {
        sendPublicFile(req, res, found.file).then(
          (sent) => {
            if (!sent) this.#toApp(req, res, deployment, forwarded, body);
          },
          () => sendPlain(res, 500, "Internal Server Error"),
        );
        return;
      }
    }
    this.#toApp(req, res, deployment, forwarded, body);
  };

  /**
   * The HTTP/1.1 front's request (bodyless): when it goes straight to a healthy instance (routed,
   * not a static file, under the per-IP cap), it is sent as `handle` would, and true returned.
   * Anything else — an error answer, a static file, a cold start — returns false having changed
   * nothing; the front then hands the connection to Node's server, where `handle` answers.
   */
  readonly direct = (req: FrontRequest, res: FrontResponse): boolean => {
    const startedAt = performance.now();
    const host = hostOf(req);
    if (host === undefined) return false;
    const path = pathOf(req.url);
    const route = this.#deps.routes().match(host, path);
    if (!route) return false;
    const deployment = route.target;
    if (deployment.upstreams.length === 0) return false;
    if (deployment.publicFiles && (req.method === "GET" || req.method === "HEAD") && looksLikeAsset(path))
      return false;
    const ip = req.socket.remoteAddress ?? "";
    if (!this.#deps.limiter.acquire(ip)) return false;
    this.#account(res, ip, deployment.key, startedAt);
    const requestId = requestIdFor(req.headers["x-request-id"]);
    this.#deps.proxy.web(req, res, nextUpstream(deployment) as Upstream, deployment.key, {
      ip,
      host,
      requestId,
    });
    return true;
  };

  /** A WebSocket upgrade (HTTP/1.1 only): routed like a request, then piped to an instance. */
  readonly upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on("error", () => undefined);
    const host = hostOf(req);
    const route = host === undefined ? undefined : this.#deps.routes().match(host, pathOf(req.url));
    if (!route) {
      socket.end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
      return;
    }
    const deployment = route.target;
    const headers = req.headers;
    headers["x-forwarded-for"] = req.socket.remoteAddress ?? "";
    headers["x-forwarded-proto"] = "https";
    headers["x-forwarded-host"] = host ?? "";
    headers["x-request-id"] = requestIdFor(headers["x-request-id"]);
    delete headers["x-tako-internal-token"];
    delete headers.forwarded;
    const upstream = nextUpstream(deployment);
    if (upstream) {
      this.#deps.proxy.ws(req, socket, head, upstream, deployment.key);
      return;
    }
    void this.#awaitInstance(deployment).then((result) => {
      if (result.kind === "ready") this.#deps.proxy.ws(req, socket, head, result.upstream, deployment.key);
      else
        socket.end(
          `HTTP/1.1 ${statusOf(result)} ${textOf(result)}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`,
        );
    });
  };

  #toApp(
    req: EdgeRequest,
    res: EdgeResponse,
    deployment: Deployment,
    forwarded: Forwarded,
    body: Readable | undefined,
  ): void {
    const upstream = nextUpstream(deployment);
    if (upstream) {
      this.#deps.proxy.web(req, res, upstream, deployment.key, forwarded, body);
      return;
    }
    void this.#awaitInstance(deployment).then((result) => {
      if (res.writableEnded || res.destroyed) return; // the client gave up meanwhile
      if (result.kind === "ready") {
        this.#deps.proxy.web(req, res, result.upstream, deployment.key, forwarded, body);
        return;
      }
      res.setHeader("x-request-id", forwarded.requestId);
      sendPlain(
        res,
        statusOf(result),
        textOf(result),
        result.kind === "rejected" ? { "retry-after": "1" } : undefined,
      );
    });
  }

  /**
   * No healthy instance. Scaled to zero (desired 0): wake it and wait. Desired above zero means
   * the instances are failing (the supervisor replaces them): 503 at once. Unknown to the
   * supervisor (or no snapshot yet): 503 as well.
   */
  #awaitInstance(deployment: Deployment): Promise<WaitResult | { kind: "unavailable" }> {
    if (deployment.desiredInstances === 0) return this.#deps.coldStarter.waitForInstance(deployment);
    return Promise.resolve({ kind: "unavailable" });
  }

  #lookupStatic(route: Route<Deployment>, path: string): Lookup {
    const files = route.target.publicFiles;
    if (!files) return { kind: "none" };
    const normalized = normalizeStaticPath(path);
    if (normalized.kind === "bad") return { kind: "bad" };
    const direct = files.get(normalized.path);
    if (direct) return { kind: "file", file: direct };
    const stripped = stripRoutePrefix(route.pattern.path, normalized.path);
    const viaPrefix = stripped === undefined ? undefined : files.get(stripped);
    return viaPrefix ? { kind: "file", file: viaPrefix } : { kind: "none" };
  }

  /**
   * The request's one close listener (`on`, not `once`: a response emits close once, and this
   * saves a wrapper per request): frees its place under the per-IP cap, tells the proxy (whose
   * answer may still be coming), counts it.
   */
  #account(res: ProxyResponse, ip: string, key: string, startedAt: number): void {
    res.on("close", () => {
      this.#deps.limiter.release(ip);
      this.#deps.proxy.clientClosed(res);
      this.#deps.metrics.request(key, res.statusCode, (performance.now() - startedAt) / 1000);
    });
  }

  /** A body without Content-Length (chunked, or HTTP/2) is counted and cut past the limit. */
  #limitStreamedBody(req: EdgeRequest, res: EdgeResponse, requestId: string): Readable {
    const limit = new BodyLimit(this.#deps.maxBodyBytes, () => {
      this.#deps.proxy.abort(req);
      req.unpipe(limit);
      req.resume(); // the rest of the body is read and dropped
      if (!res.headersSent) res.setHeader("x-request-id", requestId);
      sendPlain(res, 413, "Payload Too Large", { connection: "close" });
    });
    req.pipe(limit);
    return limit;
  }

  /** An answer before the request is routed to an app, counted under `key` ("" for none). */
  #finish(res: EdgeResponse, key: string, startedAt: number, requestId: string): void {
    res.setHeader("x-request-id", requestId);
    res.once("close", () =>
      this.#deps.metrics.request(key, res.statusCode, (performance.now() - startedAt) / 1000),
    );
  }
}

function statusOf(result: WaitResult | { kind: "unavailable" }): number {
  switch (result.kind) {
    case "timeout":
      return 504;
    case "failed":
      return 502;
    case "rejected":
    case "unavailable":
    case "ready":
      return 503;
  }
}

function textOf(result: WaitResult | { kind: "unavailable" }): string {
  switch (result.kind) {
    case "timeout":
      return "App startup timed out";
    case "failed":
      return "Bad Gateway";
    case "rejected":
    case "unavailable":
    case "ready":
      return "Service Unavailable";
  }
}
