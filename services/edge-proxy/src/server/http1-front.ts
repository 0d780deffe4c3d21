import { STATUS_CODES } from "node:http";
import type { TLSSocket } from "node:tls";
import { HTTPParser, type HttpParser, METHODS } from "../http/llhttp.js";
import { type FrontHeaders, readFrontHeaders } from "../proxy/upstream-proxy.js";
import type { ConnectionTracker } from "./connection-tracker.js";

/** Largest request head the front reads (Node's default, which the server it hands off to applies). */
const MAX_HEADER_BYTES = 16 * 1024;

/** A request the front parsed: what the edge's handler and proxy read of Node's IncomingMessage. */
export interface FrontRequest {
  readonly method: string;
  readonly url: string;
  /** The headers the edge reads, each sent at most once (a head that repeats one is handed off). */
  readonly headers: FrontHeaders;
  /** The client's header lines as the instance gets them. */
  readonly headerLines: string;
  readonly httpVersionMajor: 1;
  readonly socket: TLSSocket;
}

/**
 * Serves one request the front parsed, returning true, or returns false without touching
 * anything: the front then hands the connection, with the request, to Node's server.
 */
export type FrontHandler = (req: FrontRequest, res: FrontResponse) => boolean;

export interface Http1FrontOptions {
  readonly handler: FrontHandler;
  readonly tracker: ConnectionTracker;
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** Node's HTTP/1.1 connection handling, for a connection the front hands off. */
  readonly handOff: (socket: TLSSocket) => void;
}

/**
 * The hot path of HTTP/1.1 on TLS (what HTTP/1.1 clients and load balancers speak): requests
 * parsed by llhttp straight off the TLS socket and answered with one write, without Node's
 * IncomingMessage/ServerResponse streams. It serves the common case only — a bodyless HTTP/1.1
 * request, no upgrade, no pipelining, sent to a live instance (the handler decides) — and hands
 * the connection to Node's HTTP/1.1 server, at a request boundary and with that request's bytes,
 * for everything else: static files, cold starts, bodies, upgrades, HTTP/1.0, errors (Node
 * answers those exactly as it would have). A handed-off connection stays with Node's server.
 *
 * It keeps Node's server's slow-client rules: a head not complete within the header timeout
 * (counted from the connection's start, then from each request's first byte) and a connection
 * idle for the idle timeout are cut. Measured: see bench/edge/README.md.
 */
export class Http1Front {
  readonly #options: Http1FrontOptions;
  /** Connections the front serves, for the header timeout. */
  readonly #connections = new Set<FrontConnection>();
  readonly #checker: NodeJS.Timeout;
  /** @internal What every response of this front needs. */
  readonly context: ResponseContext;

  constructor(options: Http1FrontOptions) {
    this.#options = options;
    // What Node's server says on a kept-alive HTTP/1.1 response, with its keepAliveTimeout.
    this.context = {
      tracker: options.tracker,
      keepAliveLine: `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(options.idleTimeoutMs / 1000)}\r\n`,
    };
    const interval = Math.min(1_000, options.headersTimeoutMs);
    this.#checker = setInterval(() => this.#cutSlowHeads(), interval);
    this.#checker.unref();
  }

  /** A TLS connection that negotiated HTTP/1.1 (or no ALPN). */
  attach(socket: TLSSocket): void {
    this.#connections.add(new FrontConnection(this, socket, this.#options));
  }

  /** @internal The connection is no longer the front's (closed, or handed off). */
  release(conn: FrontConnection): void {
    this.#connections.delete(conn);
  }

  close(): void {
    clearInterval(this.#checker);
  }

  #cutSlowHeads(): void {
    const deadline = Date.now() - this.#options.headersTimeoutMs;
    for (const conn of this.#connections)
      if (conn.awaitingHead && conn.headStartedAt < deadline) conn.destroy();
  }
}

const EMPTY = Buffer.alloc(0);
const HEAD_END = Buffer.from("\r\n\r\n", "latin1");

/** One HTTP/1.1 connection while the front serves it. */
class FrontConnection {
  readonly #front: Http1Front;
  readonly #socket: TLSSocket;
  readonly #options: Http1FrontOptions;
  #parser: HttpParser | null;
  /** The bytes of the request being read, from its first byte (handed off with the connection). */
  #pending: Buffer = EMPTY;
  /** Bytes that arrived while a response was in progress (the socket is paused meanwhile). */
  #early: Buffer = EMPTY;
  /** Whether a request head is being read (or none came yet on a new connection). */
  awaitingHead = true;
  /** When that head started: the connection's start, then each request's first byte. */
  headStartedAt: number;
  #response: FrontResponse | null = null;
  // What the parser reported during the last execute: heads completed, and the request if the
  // (one) head is one the front serves.
  #heads = 0;
  #head: FrontRequest | null = null;
  #keepAlive = false;
  #partialHeaders: string[] = [];
  #partialUrl = "";

  constructor(front: Http1Front, socket: TLSSocket, options: Http1FrontOptions) {
    this.#front = front;
    this.#socket = socket;
    this.#options = options;
    const parser = new HTTPParser();
    parser.initialize(HTTPParser.REQUEST, {}, MAX_HEADER_BYTES, HTTPParser.kLenientNone);
    // Only heads are reported: a request with a body is handed off, its bytes with it.
    parser[HTTPParser.kOnHeaders] = this.#onHeaders;
    parser[HTTPParser.kOnHeadersComplete] = this.#onHeadersComplete;
    this.#parser = parser;
    this.headStartedAt = Date.now();
    socket.setTimeout(options.idleTimeoutMs);
    socket.on("data", this.#onData);
    socket.on("timeout", this.#onTimeout);
    socket.on("error", this.#onError);
    socket.on("close", this.#onClose);
  }

  destroy(): void {
    this.#socket.destroy();
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#response !== null) {
      // A pipelined request (or junk) while answering: read on once the response is out.
      this.#early = this.#early.length === 0 ? chunk : Buffer.concat([this.#early, chunk]);
      this.#socket.pause();
      return;
    }
    this.#read(chunk);
  };

  #read(chunk: Buffer): void {
    const parser = this.#parser;
    if (parser === null) return;
    if (!this.awaitingHead) {
      this.awaitingHead = true;
      this.headStartedAt = Date.now();
    }
    const pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#head = null;
    this.#heads = 0;
    const parsed = parser.execute(chunk);
    const req = this.#head as FrontRequest | null;
    if (parsed instanceof Error || this.#heads > 1) {
      // Malformed (Node's server gives the same answer), or pipelined requests: Node's server.
      this.#handOff(pending);
      return;
    }
    if (this.#heads === 0) {
      if (pending.length > MAX_HEADER_BYTES) this.#handOff(pending);
      else this.#pending = pending;
      return;
    }
    this.#pending = EMPTY;
    this.awaitingHead = false;
    // A bodyless request ends with its head: anything after it is another request.
    if (req === null || pending.indexOf(HEAD_END) !== pending.length - 4) {
      this.#handOff(pending); // a body, an upgrade, HTTP/1.0, a repeated header, pipelining…
      return;
    }
    const res = new FrontResponse(
      this.#socket,
      this.#front.context,
      req.method === "HEAD",
      this.#keepAlive,
      () => this.#responded(res),
    );
    this.#response = res;
    this.#options.tracker.requestStarted(this.#socket);
    if (!this.#options.handler(req, res)) {
      this.#response = null;
      this.#options.tracker.requestEnded(this.#socket);
      this.#handOff(pending);
    }
  }

  /** The response went out whole (or the connection closed under it). */
  #responded(res: FrontResponse): void {
    if (this.#response !== res) return;
    this.#response = null;
    this.#options.tracker.requestEnded(this.#socket);
    if (!res.keepAlive || this.#socket.destroyed) {
      this.#socket.end();
      return;
    }
    if (this.#early.length > 0) {
      // Not from inside the response's end (that runs in the instance connection's parser).
      process.nextTick(() => {
        const early = this.#early;
        this.#early = EMPTY;
        if (this.#parser === null || early.length === 0) return;
        this.#socket.resume();
        this.#read(early);
      });
    }
  }

  /**
   * Node's HTTP/1.1 server takes the connection over, starting with `pending`, the bytes of the
   * request the front did not answer (and any after it).
   */
  #handOff(pending: Buffer): void {
    const socket = this.#socket;
    this.#release();
    socket.removeListener("data", this.#onData);
    socket.removeListener("timeout", this.#onTimeout);
    socket.removeListener("error", this.#onError);
    socket.removeListener("close", this.#onClose);
    // Node's server then reads through 'data' events like the front did, rather than consuming
    // the TLS stream in C++ (it skips a stream marked consumed).
    const handle = (socket as unknown as { _handle: { _consumed?: boolean } | null })._handle;
    if (handle) handle._consumed = true;
    this.#options.handOff(socket);
    const early = this.#early;
    this.#early = EMPTY;
    const bytes = early.length === 0 ? pending : Buffer.concat([pending, early]);
    if (bytes.length > 0) socket.emit("data", bytes);
    if (socket.isPaused()) socket.resume();
  }

  #release(): void {
    this.#front.release(this);
    this.#parser?.free();
    this.#parser = null;
  }

  readonly #onTimeout = (): void => {
    this.#socket.destroy();
  };

  readonly #onError = (): void => {
    this.#socket.destroy();
  };

  readonly #onClose = (): void => {
    this.#release();
    this.#response?.closed();
  };

  // Parser callbacks: they only record; #read decides once execute returns.

  /** Parts of a head longer than llhttp hands over at once. */
  readonly #onHeaders = (headers: string[], url: string): void => {
    for (const h of headers) this.#partialHeaders.push(h);
    this.#partialUrl += url;
  };

  readonly #onHeadersComplete = (
    major: number,
    minor: number,
    headers: string[] | undefined,
    method: number,
    url: string | undefined,
    _status: number,
    _statusText: string,
    upgrade: boolean,
    keepAlive: boolean,
  ): number => {
    let raw = headers;
    if (raw === undefined) {
      raw = this.#partialHeaders;
      this.#partialHeaders = [];
    }
    let target = url;
    if (target === undefined) {
      target = this.#partialUrl;
      this.#partialUrl = "";
    }
    this.#heads++;
    this.#keepAlive = keepAlive;
    const name = METHODS[method] ?? "";
    // Served here: HTTP/1.1 without body or upgrade (a Content-Length: 0 is no body).
    const read =
      major === 1 && minor === 1 && !upgrade && name !== "CONNECT" ? readFrontHeaders(raw) : undefined;
    const h = read?.headers;
    this.#head =
      read !== undefined &&
      h !== undefined &&
      h["transfer-encoding"] === undefined &&
      h.expect === undefined &&
      (h["content-length"] === undefined || h["content-length"] === "0")
        ? {
            method: name,
            url: target,
            headers: h,
            headerLines: read.lines,
            httpVersionMajor: 1,
            socket: this.#socket,
          }
        : null;
    return 0;
  };
}

interface ResponseContext {
  readonly tracker: ConnectionTracker;
  /** Connection and Keep-Alive header lines of a kept-alive response. */
  readonly keepAliveLine: string;
}

export class FrontResponse {
  statusCode = 200;
  readonly #socket: TLSSocket;
  readonly #head: boolean;
  readonly #context: ResponseContext;
  readonly #done: () => void;
  /** Whether the connection stays open after this response. */
  keepAlive: boolean;
  #set: Map<string, string> | null = null;
  /** The head, built and not yet written. */
  #pendingHead = "";
  #headersSent = false;
  #chunked = false;
  #ended = false;
  #closed = false;
  #closeListeners: (() => void)[] = [];

  constructor(
    socket: TLSSocket,
    context: ResponseContext,
    head: boolean,
    keepAlive: boolean,
    done: () => void,
  ) {
    this.#socket = socket;
    this.#head = head;
    this.#context = context;
    this.keepAlive = keepAlive;
    this.#done = done;
  }

  get headersSent(): boolean {
    return this.#headersSent;
  }

  get writableEnded(): boolean {
    return this.#ended;
  }

  get destroyed(): boolean {
    return this.#socket.destroyed;
  }

  setHeader(name: string, value: string | number): this {
    this.#set ??= new Map();
    this.#set.set(name.toLowerCase(), String(value));
    return this;
  }

  hasHeader(name: string): boolean {
    return this.#set?.has(name.toLowerCase()) ?? false;
  }

  removeHeader(name: string): void {
    this.#set?.delete(name.toLowerCase());
  }

  getHeaderNames(): string[] {
    return this.#set === null ? [] : [...this.#set.keys()];
  }

  /** Node's `writeHead(status, [statusText,] flatHeaders)`; headers set before stay unless named again. */
  writeHead(status: number, textOrHeaders?: string | string[], maybeHeaders?: string[]): this {
    const text = typeof textOrHeaders === "string" && textOrHeaders !== "" ? textOrHeaders : undefined;
    const headers = Array.isArray(textOrHeaders) ? textOrHeaders : (maybeHeaders ?? []);
    this.statusCode = status;
    this.#buildHead(text, headers);
    return this;
  }

  write(chunk: Buffer): boolean {
    if (this.#ended || this.#socket.destroyed) return false;
    if (!this.#headersSent) this.#buildHead(undefined, []);
    if (this.#head || !hasBody(this.statusCode)) return true;
    const head = this.#pendingHead;
    this.#pendingHead = "";
    if (this.#chunked)
      return this.#socket.write(join(`${head}${chunk.length.toString(16)}\r\n`, chunk, "\r\n"));
    return this.#socket.write(head === "" ? chunk : join(head, chunk, ""));
  }

  end(body?: string): void {
    if (this.#ended) return;
    if (!this.#headersSent) {
      if (body !== undefined && !this.hasHeader("content-length"))
        this.setHeader("content-length", Buffer.byteLength(body));
      this.#buildHead(undefined, []);
    }
    this.#ended = true;
    const head = this.#pendingHead;
    this.#pendingHead = "";
    const bodyAllowed = !this.#head && hasBody(this.statusCode);
    const last = bodyAllowed && this.#chunked ? "0\r\n\r\n" : "";
    if (!this.#socket.destroyed) {
      if (bodyAllowed && body !== undefined && body !== "") {
        const bytes = Buffer.from(body);
        if (this.#chunked)
          this.#socket.write(join(`${head}${bytes.length.toString(16)}\r\n`, bytes, `\r\n${last}`));
        else this.#socket.write(join(head, bytes, last));
      } else if (head !== "" || last !== "") this.#socket.write(head + last, "latin1");
    }
    this.closed();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  once(event: "drain", listener: () => void): this {
    this.#socket.once(event, listener);
    return this;
  }

  /** 'close': once, when the response is out or the connection closed before. */
  on(_event: "close", listener: () => void): this {
    this.#closeListeners.push(listener);
    return this;
  }

  /** @internal The response ended or its connection closed. */
  closed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#done();
    for (const listener of this.#closeListeners) listener();
  }

  /**
   * The head as Node's server writes it: the status line, the headers set and given, Date
   * unless given, Content-Length as given or chunked framing, and Connection (with Keep-Alive's
   * timeout) from the request, the response and the edge's drain state.
   */
  #buildHead(text: string | undefined, given: readonly string[]): void {
    const status = this.statusCode;
    let head = `HTTP/1.1 ${status} ${text ?? STATUS_CODES[status] ?? "unknown"}\r\n`;
    let hasDate = false;
    let hasLength = false;
    // Names given, when headers were also set (those given win).
    const named = given.length === 0 || this.#set === null ? undefined : new Set<string>();
    for (let i = 0; i < given.length; i += 2) {
      const name = given[i] as string;
      const lower = name.toLowerCase();
      named?.add(lower);
      if (lower === "date") hasDate = true;
      else if (lower === "content-length") hasLength = true;
      head += `${name}: ${given[i + 1]}\r\n`;
    }
    if (this.#set !== null) {
      for (const [name, value] of this.#set) {
        // Connection is the front's to say (below), from the request and this one's close.
        if (named?.has(name) || name === "connection") continue;
        if (name === "date") hasDate = true;
        else if (name === "content-length") hasLength = true;
        head += `${name}: ${value}\r\n`;
      }
    }
    if (!hasDate) head += `Date: ${httpDate()}\r\n`;
    if (this.#context.tracker.draining || this.#set?.get("connection") === "close") this.keepAlive = false;
    head += this.keepAlive ? this.#context.keepAliveLine : "Connection: close\r\n";
    if (!hasLength && hasBody(status) && !this.#head) {
      this.#chunked = true;
      head += "Transfer-Encoding: chunked\r\n";
    }
    this.#pendingHead = `${head}\r\n`;
    this.#headersSent = true;
  }
}

/** Whether a response with this status has a body (RFC 9110 §6.4.1). */
function hasBody(status: number): boolean {
  return status >= 200 && status !== 204 && status !== 304;
}

/** latin1 `before`, then `body`, then latin1 `after`, in one buffer (one TLS record, one write). */
function join(before: string, body: Buffer, after: string): Buffer {
  const out = Buffer.allocUnsafe(before.length + body.length + after.length);
  out.write(before, 0, "latin1");
  body.copy(out, before.length);
  if (after !== "") out.write(after, before.length + body.length, "latin1");
  return out;
}

let dateSecond = 0;
let dateText = "";

/** The Date header's value (IMF-fixdate), computed once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}
