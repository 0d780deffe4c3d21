import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";
import type { Socket } from "node:net";
import type { Duplex, Readable } from "node:stream";
import { createProxyServer, type ProxyServer } from "http-proxy-3";
import { sendPlain } from "../http/plain-response.js";
import type { EdgeMetrics } from "../metrics/edge-metrics.js";
import type { FrontRequest, FrontResponse } from "../server/http1-front.js";
import type { EdgeRequest, EdgeResponse } from "../static/static-response.js";
import type { Upstream } from "../upstream/deployment.js";
import type { ResponseSink, UpstreamConnection } from "../upstream/upstream-pool.js";

export interface UpstreamProxyOptions {
  readonly metrics: EdgeMetrics;
}

/** What the edge tells the instance about a request (X-Forwarded-For/-Host, X-Request-ID). */
export interface Forwarded {
  readonly ip: string;
  readonly host: string;
  readonly requestId: string;
}

/** A request the proxy sends on: parsed by Node's servers (HTTP/1.1, HTTP/2) or by the HTTP/1.1 front. */
export type ProxyRequest = EdgeRequest | FrontRequest;
export type ProxyResponse = EdgeResponse | FrontResponse;

/** The exchange of a request: on its response, and on a request whose body is counted (to abort it). */
const kExchange = Symbol("tako.exchange");
/** Deployment key of a WebSocket upgrade, for counting upstream errors. */
const kDeployment = Symbol("tako.deployment");
type Tagged = { [kExchange]?: Exchange; [kDeployment]?: string };

/**
 * Request headers never copied upstream: hop-by-hop ones (RFC 9110 §7.6.1; also those a
 * client's Connection header lists, see requestHead), the framing the edge sets itself for the
 * body it sends, Expect (the edge's server already answered 100-continue), HTTP/2's
 * connection-level ones, the ones the edge writes itself (a client's would be believed by the
 * app), and the internal token no client may send. Pseudo-headers (":path"…) are skipped by their colon.
 */
const REQUEST_NOT_FORWARDED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "content-length",
  "upgrade",
  "te",
  "trailer",
  "expect",
  "http2-settings",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-request-id",
  "forwarded",
  "x-tako-internal-token",
]);

/**
 * Response headers never copied to the client: hop-by-hop ones (the instance's Connection header
 * describes its connection to the edge, not the client's; Node frames the client's response and
 * sets its Connection from the client's request and the edge's drain state), which HTTP/2 also
 * forbids.
 */
const RESPONSE_NOT_FORWARDED = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "trailer",
  "te",
  "http2-settings",
]);

/** Methods whose request may be sent again when a reused connection turns out closed (RFC 9110 §9.2.2). */
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);
/** Methods whose empty body is still announced (as Node's client does), so apps need not guess. */
const BODYLESS_BY_DEFAULT = new Set(["GET", "HEAD", "DELETE", "OPTIONS", "TRACE", "CONNECT"]);

function hasNoBody(req: ProxyRequest): boolean {
  if (req.httpVersionMajor === 2) return (req as Http2ServerRequest).stream.endAfterHeaders;
  const length = req.headers["content-length"];
  return (length === undefined || length === "0") && req.headers["transfer-encoding"] === undefined;
}

/**
 * Sends requests to app instances over their keep-alive connection pools and streams the answers
 * back; any failure to reach an instance becomes a generic 502 (or a cut response when the answer
 * had already started). The caller has already set the forwarded headers on the request.
 *
 * Plain requests bypass http-proxy-3 (see UpstreamPool for why and by how much); WebSocket
 * upgrades still go through its `ws` pass.
 */
export class UpstreamProxy {
  readonly #proxy: ProxyServer;
  readonly metrics: EdgeMetrics;
  readonly #onWsError: (err: Error, req: IncomingMessage, res: ServerResponse | Duplex) => void;

  constructor(options: UpstreamProxyOptions) {
    this.metrics = options.metrics;
    this.#proxy = createProxyServer({ xfwd: false, ws: true, toProxy: true, prependPath: false });
    this.#onWsError = (_err, req, socket) => {
      const key = (req as Tagged)[kDeployment];
      if (key !== undefined) this.metrics.upstreamError(key);
      (socket as Socket).destroy();
    };
    // Errors reach the per-call callback; this listener only keeps the emitter from throwing.
    this.#proxy.on("error", () => undefined);
  }

  /** `body` replaces the request as the body source (a BodyLimit the request is piped into). */
  web(
    req: ProxyRequest,
    res: ProxyResponse,
    upstream: Upstream,
    deploymentKey: string,
    forwarded: Forwarded,
    body?: Readable,
  ): void {
    const exchange = new Exchange(this, req, res, upstream, deploymentKey, forwarded, body);
    (res as Tagged)[kExchange] = exchange;
    if (body) (req as Tagged)[kExchange] = exchange;
    exchange.start(upstream.pool.acquire());
  }

  /**
   * The client's response closed (the handler's one close listener per request calls this): an
   * answer still coming from the instance is abandoned, and its connection with it.
   */
  clientClosed(res: ProxyResponse): void {
    (res as Tagged)[kExchange]?.clientClosed();
  }

  /** Aborts the upstream side of a request proxied with a counted body (its answer is the caller's). */
  abort(req: EdgeRequest): void {
    (req as Tagged)[kExchange]?.abandon();
  }

  /** A WebSocket (HTTP/1.1 upgrade), piped both ways once the app accepts it. */
  ws(req: IncomingMessage, socket: Duplex, head: Buffer, upstream: Upstream, deploymentKey: string): void {
    (req as Tagged)[kDeployment] = deploymentKey;
    this.#proxy.ws(req, socket, head, { target: upstream.target }, this.#onWsError);
  }
}

/** One request on its way to an instance and its response on the way back. */
class Exchange implements ResponseSink {
  readonly #proxy: UpstreamProxy;
  readonly #req: ProxyRequest;
  readonly #res: ProxyResponse;
  readonly #upstream: Upstream;
  readonly #deploymentKey: string;
  readonly #requestId: string;
  /** The request body's source; undefined for a request without a body. */
  readonly #source: Readable | undefined;
  readonly #chunked: boolean;
  readonly #head: string;
  #conn: UpstreamConnection | null = null;
  #bodySent = false;
  #retried = false;
  #done = false;

  constructor(
    proxy: UpstreamProxy,
    req: ProxyRequest,
    res: ProxyResponse,
    upstream: Upstream,
    deploymentKey: string,
    forwarded: Forwarded,
    body: Readable | undefined,
  ) {
    this.#proxy = proxy;
    this.#requestId = forwarded.requestId;
    this.#req = req;
    this.#res = res;
    this.#upstream = upstream;
    this.#deploymentKey = deploymentKey;
    // A front request never has a body (the front hands those to Node's server).
    this.#source = body ?? (hasNoBody(req) ? undefined : (req as EdgeRequest));
    const length = body === undefined ? req.headers["content-length"] : undefined;
    let framing: string;
    if (this.#source === undefined) {
      framing = BODYLESS_BY_DEFAULT.has(req.method ?? "") ? "" : "content-length: 0\r\n";
      this.#chunked = false;
    } else if (length !== undefined) {
      framing = `content-length: ${length}\r\n`;
      this.#chunked = false;
    } else {
      framing = "transfer-encoding: chunked\r\n";
      this.#chunked = true;
    }
    this.#head = requestHead(
      req,
      `x-forwarded-for: ${forwarded.ip}\r\nx-forwarded-proto: https\r\nx-forwarded-host: ${forwarded.host}\r\n` +
        `x-request-id: ${forwarded.requestId}\r\n${framing}`,
    );
  }

  start(conn: UpstreamConnection): void {
    this.#conn = conn;
    conn.send(this.#head, this, this.#req.method === "HEAD");
    if (this.#source !== undefined) this.#pump(this.#source, conn);
  }

  /** Gives up the upstream side without answering (the caller answers). */
  abandon(): void {
    this.#done = true;
    this.#conn?.abandon();
    this.#conn = null;
  }

  head(status: number, statusText: string, raw: string[]): void {
    const headers: string[] = [];
    let listed: string | undefined;
    let hasRequestId = false;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] as string;
      const lower = name.toLowerCase();
      if (RESPONSE_NOT_FORWARDED.has(lower)) {
        if (lower === "connection") listed = raw[i + 1];
        continue;
      }
      if (lower === "x-request-id") hasRequestId = true;
      headers.push(name, raw[i + 1] as string);
    }
    // The request id, unless the instance answers with its own or the edge already set it (a
    // request that looked like a static file and went to the app after all).
    if (!hasRequestId && !this.#res.hasHeader("x-request-id")) headers.push("x-request-id", this.#requestId);
    const names = listed === undefined ? undefined : listedNames(listed);
    const out = names === undefined ? headers : withoutNames(headers, names);
    const res = this.#res;
    try {
      // (The front's response takes both of Node's forms.)
      if (this.#req.httpVersionMajor === 2 || statusText === "")
        (res as Http2ServerResponse).writeHead(status, out as never);
      else (res as ServerResponse).writeHead(status, statusText, out);
    } catch {
      // A head Node will not send on (e.g. a header HTTP/2 forbids): the instance's answer is
      // unusable, like a malformed one. Thrown inside the parser's callback, it must stop here.
      this.#conn?.abandon();
      this.#giveUp();
    }
  }

  body(chunk: Buffer): void {
    const conn = this.#conn;
    if (!(this.#res as ServerResponse).write(chunk) && conn !== null) {
      // The client reads slower than the instance writes: stop reading the instance meanwhile.
      conn.socket.pause();
      this.#res.once("drain", () => conn.socket.resume());
    }
  }

  end(): boolean {
    this.#done = true;
    this.#conn = null;
    (this.#res as ServerResponse).end();
    if (this.#source !== undefined && !this.#bodySent) this.#source.resume(); // the rest is dropped
    return this.#source === undefined || this.#bodySent;
  }

  fail(_err: Error, replayable: boolean): void {
    this.#conn = null;
    if (this.#done) return;
    const res = this.#res;
    if (
      replayable &&
      !this.#retried &&
      this.#source === undefined &&
      !res.headersSent &&
      IDEMPOTENT.has(this.#req.method ?? "")
    ) {
      // A keep-alive connection the instance closed as this request was written: once more, on a new one.
      this.#retried = true;
      this.start(this.#upstream.pool.connect());
      return;
    }
    this.#giveUp();
  }

  /** The instance could not answer: a generic 502 if nothing was sent yet, else a cut response. */
  #giveUp(): void {
    const res = this.#res;
    this.#conn = null;
    this.#done = true;
    this.#proxy.metrics.upstreamError(this.#deploymentKey);
    if (this.#source !== undefined && !this.#bodySent) this.#source.resume();
    // Already answered (e.g. 413 for a body past the limit) or cut: nothing more to say.
    if (res.writableEnded) return;
    if (!res.headersSent) {
      // Nothing of the instance's answer goes out with the edge's (a refused head may have been stored).
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      res.setHeader("x-request-id", this.#requestId);
    }
    sendPlain(res, 502, "Bad Gateway");
  }

  clientClosed(): void {
    if (!this.#done) this.abandon();
  }

  #pump(source: Readable, conn: UpstreamConnection): void {
    const socket = conn.socket;
    const chunked = this.#chunked;
    source.on("data", (chunk: Buffer) => {
      if (this.#conn !== conn || chunk.length === 0) return;
      let flowing: boolean;
      if (chunked) {
        socket.cork();
        socket.write(`${chunk.length.toString(16)}\r\n`, "latin1");
        socket.write(chunk);
        flowing = socket.write("\r\n", "latin1");
        socket.uncork();
      } else flowing = socket.write(chunk);
      if (!flowing) {
        source.pause();
        socket.once("drain", () => source.resume());
        // A connection that dies meanwhile ends the exchange, which resumes the source.
      }
    });
    source.once("end", () => {
      if (this.#conn !== conn) return;
      if (chunked) socket.write("0\r\n\r\n", "latin1");
      this.#bodySent = true;
    });
    source.once("error", () => {
      if (this.#conn === conn) this.abandon();
    });
  }
}

const EDGE_READS = new Set([
  "host",
  "x-request-id",
  "connection",
  "content-length",
  "transfer-encoding",
  "expect",
  "upgrade",
]);

/** The headers the edge itself reads of a front request (the rest are only forwarded). */
export interface FrontHeaders {
  [name: string]: string | undefined;
  host: string | undefined;
  "x-request-id": string | undefined;
  connection: string | undefined;
  "content-length": string | undefined;
  "transfer-encoding": string | undefined;
  expect: string | undefined;
  upgrade: string | undefined;
}

/**
 * A raw header list (an HTTP/1.1 front request) read in one pass: the headers the edge reads,
 * and the lines the instance gets (requestHead's rule; names as the client wrote them, a
 * repeated field sent as it came). Undefined for a head the front leaves to Node's server: one
 * of the edge's headers repeated, or a Connection header that names headers to drop.
 */
export function readFrontHeaders(
  raw: readonly string[],
): { headers: FrontHeaders; lines: string } | undefined {
  const headers: FrontHeaders = {
    host: undefined,
    "x-request-id": undefined,
    connection: undefined,
    "content-length": undefined,
    "transfer-encoding": undefined,
    expect: undefined,
    upgrade: undefined,
  };
  let lines = "";
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    const lower = name.toLowerCase();
    if (EDGE_READS.has(lower)) {
      if (headers[lower] !== undefined) return undefined;
      headers[lower] = value;
    }
    if (!REQUEST_NOT_FORWARDED.has(lower)) lines += `${name}: ${value}\r\n`;
  }
  const connection = headers.connection;
  if (connection !== undefined && listedNames(connection) !== undefined) return undefined;
  return { headers, lines };
}

/**
 * The request line and headers sent to the instance (HTTP/1.1, whatever the client spoke);
 * `edgeLines`: the edge's own header lines (forwarded headers, request id, body framing).
 */
function requestHead(req: ProxyRequest, edgeLines: string): string {
  let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
  const lines = (req as { headerLines?: string }).headerLines;
  if (lines !== undefined) return `${head}${lines}connection: keep-alive\r\n${edgeLines}\r\n`;
  const headers = req.headers;
  if (headers.host === undefined && req.httpVersionMajor === 2) {
    const authority = headers[":authority"];
    if (typeof authority === "string") head += `host: ${authority}\r\n`;
  }
  // Headers the client's Connection header lists concern its connection only, not the edge's.
  const connection = headers.connection;
  const listed = typeof connection === "string" ? listedNames(connection) : undefined;
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ":" */ || REQUEST_NOT_FORWARDED.has(name) || listed?.has(name)) continue;
    const value = headers[name];
    if (typeof value === "string") head += `${name}: ${value}\r\n`;
    else if (Array.isArray(value)) for (const v of value) head += `${name}: ${v}\r\n`;
  }
  // HTTP/1.1's default, said anyway: some servers only keep a connection open when asked to.
  return `${head}connection: keep-alive\r\n${edgeLines}\r\n`;
}

/**
 * The headers a Connection header names as hop-by-hop (RFC 9110 §7.6.1), lowercased; undefined
 * for the usual bare "keep-alive" or "close", which name none. Host is never one: the instance
 * needs it whatever a client says.
 */
function listedNames(connection: string): Set<string> | undefined {
  if (/^\s*(?:keep-alive|close)\s*$/i.test(connection)) return undefined;
  const names = new Set<string>();
  for (const part of connection.split(",")) {
    const name = part.trim().toLowerCase();
    if (name !== "" && name !== "host") names.add(name);
  }
  return names;
}

/** A flat header list without the named headers. */
function withoutNames(headers: string[], names: Set<string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (!names.has(name.toLowerCase())) out.push(name, headers[i + 1] as string);
  }
  return out;
}
