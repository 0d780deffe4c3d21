import type { ClientRequest, IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest } from "node:http2";
import type { Socket } from "node:net";
import { type Duplex, type Readable, Stream } from "node:stream";
import { createProxyServer, type ProxyServer } from "http-proxy-3";
// The web passes themselves (see `web`): deleteLength, then stream (the request to the instance).
import type { NormalizedServerOptions } from "http-proxy-3/dist/lib/http-proxy/index.js";
import { deleteLength, stream } from "http-proxy-3/dist/lib/http-proxy/passes/web-incoming.js";
import { sendPlain } from "../http/plain-response.js";
import type { EdgeMetrics } from "../metrics/edge-metrics.js";
import type { EdgeRequest, EdgeResponse } from "../static/static-response.js";
import type { Upstream } from "../upstream/deployment.js";

export interface UpstreamProxyOptions {
  /** An instance that sends nothing for this long fails the request (502). */
  readonly upstreamTimeoutMs: number;
  readonly metrics: EdgeMetrics;
}

/** Deployment key of a proxied request, for counting upstream errors. */
const kDeployment = Symbol("tako.deployment");
/** The upstream request of a request whose body is counted (so it can be aborted). */
const kUpstreamRequest = Symbol("tako.upstreamRequest");
type Tagged = { [kDeployment]?: string; [kUpstreamRequest]?: ClientRequest | null };

/**
 * The body of a request that has none (HTTP/1.1 without Content-Length or Transfer-Encoding,
 * HTTP/2 whose headers ended the stream): ends the upstream request at once, instead of piping
 * an empty request stream into it (listeners added and removed on both streams per request).
 */
class EmptyBody extends Stream {
  override pipe<T extends NodeJS.WritableStream>(destination: T): T {
    destination.end();
    return destination;
  }
}
const EMPTY_BODY = new EmptyBody();

function hasNoBody(req: EdgeRequest): boolean {
  if (req.httpVersionMajor === 2) return (req as Http2ServerRequest).stream.endAfterHeaders;
  return req.headers["content-length"] === undefined && req.headers["transfer-encoding"] === undefined;
}

// Connection-specific headers HTTP/2 forbids; an app may still send them over HTTP/1.1.
const H2_FORBIDDEN = ["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"];

/**
 * Sends requests to app instances with http-proxy-3, over each instance's keep-alive agent.
 * The caller has already set the forwarded headers on the request; any failure to reach the
 * instance becomes a generic 502 (or a cut response when the answer had already started).
 */
export class UpstreamProxy {
  readonly #proxy: ProxyServer;
  readonly #metrics: EdgeMetrics;
  readonly #upstreamTimeoutMs: number;
  readonly #onError: (err: Error, req: IncomingMessage, res: ServerResponse | Duplex) => void;

  constructor(options: UpstreamProxyOptions) {
    this.#metrics = options.metrics;
    this.#upstreamTimeoutMs = options.upstreamTimeoutMs;
    // Emits proxyReq/proxyRes for `web` (which runs its passes directly) and serves `ws`.
    this.#proxy = createProxyServer({
      xfwd: false, // set by the edge: the client IP replaces any client-sent value
      ws: true,
      // The request target goes upstream as received (no URL parsing per request).
      toProxy: true,
      prependPath: false,
      proxyTimeout: options.upstreamTimeoutMs,
    });
    this.#proxy.on("proxyRes", (proxyRes, req, res) => {
      if ((req as IncomingMessage).httpVersionMajor === 2) {
        for (const h of H2_FORBIDDEN) if (proxyRes.headers[h] !== undefined) delete proxyRes.headers[h];
        return;
      }
      // The app's Connection header describes its connection to the edge, not the client's:
      // the client's connection stays open unless the client asked to close it or this process
      // is draining (Node decided that in shouldKeepAlive). Set here, http-proxy-3 keeps it.
      if (proxyRes.headers["keep-alive"] !== undefined) delete proxyRes.headers["keep-alive"];
      proxyRes.headers.connection = (res as ServerResponse).shouldKeepAlive ? "keep-alive" : "close";
    });
    this.#proxy.on("proxyReq", (proxyReq, req) => {
      if ((req as Tagged)[kUpstreamRequest] === null) (req as Tagged)[kUpstreamRequest] = proxyReq;
    });
    this.#onError = (_err, req, res) => {
      const key = (req as Tagged)[kDeployment];
      if (key !== undefined) this.#metrics.upstreamError(key);
      if ("writeHead" in res) {
        // Already answered (e.g. 413 for a body past the limit, which aborted this request).
        if (!(res as ServerResponse).writableEnded) sendPlain(res as ServerResponse, 502, "Bad Gateway");
      } else (res as Socket).destroy();
    };
    // Errors reach the per-call callback; this listener only keeps the emitter from throwing.
    this.#proxy.on("error", () => undefined);
  }

  /** `body` replaces the request as the body source (a BodyLimit the request is piped into). */
  web(req: EdgeRequest, res: EdgeResponse, upstream: Upstream, deploymentKey: string, body?: Readable): void {
    const tagged = req as Tagged;
    tagged[kDeployment] = deploymentKey;
    if (body) tagged[kUpstreamRequest] = null;
    const buffer = body ?? (hasNoBody(req) ? EMPTY_BODY : undefined);
    // http-proxy-3's web passes, called directly: ProxyServer#web would merge these options into
    // a copy of the server's per request and run two passes that do nothing here (timeout and
    // XHeaders: no `timeout`, `xfwd` off), which measured as a sixth of a proxied request's CPU.
    // deleteLength and stream are the two that act; options are the server's plus the target.
    deleteLength(req as IncomingMessage);
    // Returns a promise only on its fetch path (options.fetch), which the edge never takes.
    void stream(
      req as IncomingMessage,
      res as ServerResponse,
      {
        target: upstream.target,
        agent: upstream.agent,
        // The object http-proxy-3 builds the upstream request options on: a fresh one per
        // request, with an empty servername so Node's agent does not derive one from the Host
        // header (an IP check with a large regular expression per request, for a plain-HTTP hop).
        ssl: { servername: "" },
        buffer,
        toProxy: true,
        prependPath: false,
        proxyTimeout: this.#upstreamTimeoutMs,
        // One object shape for every request: `buffer` is undefined for a body piped from the
        // request itself (the pass reads `options.buffer || req`).
      } as NormalizedServerOptions,
      undefined,
      this.#proxy,
      this.#onError,
    );
  }

  /** Aborts the upstream request of a request proxied with a counted body. */
  abort(req: EdgeRequest): void {
    (req as Tagged)[kUpstreamRequest]?.destroy();
  }

  /** A WebSocket (HTTP/1.1 upgrade), piped both ways once the app accepts it. */
  ws(req: IncomingMessage, socket: Duplex, head: Buffer, upstream: Upstream, deploymentKey: string): void {
    (req as Tagged)[kDeployment] = deploymentKey;
    this.#proxy.ws(req, socket, head, { target: upstream.target }, this.#onError);
  }
}
