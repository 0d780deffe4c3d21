import { chmod, chown } from "node:fs/promises";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { TakoError } from "@tako/errors";
import { type ErrorLogger, serverErrorInterceptor } from "./error-mapping.js";
import { probeSocket, removeSocketFile } from "./socket-files.js";
import { assertSocketPath } from "./socket-path.js";

/** Default largest single message a daemon accepts (Connect's readMaxBytes). */
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Largest deadline a client may ask for. */
export const DEFAULT_MAX_TIMEOUT_MS = 60 * 60 * 1000;

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/** A connection that sends nothing for this long is dropped before it reaches either server. */
const FIRST_BYTE_TIMEOUT_MS = 10_000;

export interface RpcServerOptions {
  readonly routes: (router: ConnectRouter) => void;
  readonly maxMessageBytes?: number;
  readonly maxTimeoutMs?: number;
  readonly log?: ErrorLogger;
  /**
   * Streaming procedures that never end on their own (watches). At drain they are ended with
   * UNAVAILABLE so clients reconnect to the successor at once. Every other call (unary calls and
   * operation streams such as a deploy) is allowed to finish. Default: names starting with "Watch".
   */
  readonly cutOnDrain?: (method: DescMethod) => boolean;
  /** Extra interceptors, innermost; error mapping and drain tracking are always applied. */
  readonly interceptors?: readonly Interceptor[];
}

export interface ListenOptions {
  /** File mode of the socket; connecting needs write permission. Default 0o600 (owner only). */
  readonly mode?: number;
  /** Group that owns the socket (e.g. the `tako` group for the management socket). */
  readonly gid?: number;
}

export interface DrainOptions {
  /**
   * How long to keep accepting after the successor took the symlink: clients that resolved the
   * old target just before the swap are still connecting. Default 500 ms.
   */
  readonly graceMs?: number;
  /** Stop waiting for in-flight calls after this long and close every connection. Default 30 s. */
  readonly deadlineMs?: number;
}

type ServerState = "created" | "listening" | "draining" | "closed";

const defaultCutOnDrain = (method: DescMethod) => method.name.startsWith("Watch");

/**
 * Serves Connect routes on one Unix socket, speaking the Connect protocol (JSON and binary) over
 * HTTP/1.1 and HTTP/2, and gRPC and gRPC-Web over HTTP/2, on the same socket: each connection's
 * first bytes tell whether it is an HTTP/2 prior-knowledge connection or HTTP/1.1.
 */
export class RpcServer {
  readonly #h1: http.Server;
  readonly #h2: http2.Http2Server;
  readonly #listener: net.Server;
  readonly #sockets = new Set<net.Socket>();
  readonly #sessions = new Set<http2.ServerHttp2Session>();
  readonly #drain = new AbortController();
  #state: ServerState = "created";
  #inflight = 0;
  #socketPath: string | undefined;
  #listenerClosed = false;
  #drained: Promise<void> = Promise.resolve();

  constructor(options: RpcServerOptions) {
    const cutOnDrain = options.cutOnDrain ?? defaultCutOnDrain;
    const handler = connectNodeAdapter({
      routes: options.routes,
      readMaxBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      maxTimeoutMs: options.maxTimeoutMs ?? DEFAULT_MAX_TIMEOUT_MS,
      interceptors: [
        this.#trackCalls(cutOnDrain),
        serverErrorInterceptor(options.log),
        ...(options.interceptors ?? []),
      ],
    });
    const listener = (
      req: http.IncomingMessage | http2.Http2ServerRequest,
      res: http.ServerResponse | http2.Http2ServerResponse,
    ) => {
      // While draining, HTTP/1.1 connections are closed after their current response.
      if (this.#state === "draining" && req.httpVersionMajor === 1)
        (res as http.ServerResponse).shouldKeepAlive = false;
      handler(req, res);
    };
    this.#h1 = http.createServer(
      { maxHeaderSize: 16 * 1024, headersTimeout: 10_000, keepAliveTimeout: 5_000 },
      listener,
    );
    this.#h2 = http2.createServer({ settings: { maxConcurrentStreams: 1000 } }, listener);
    this.#h2.on("session", (session: http2.ServerHttp2Session) => {
      this.#sessions.add(session);
      session.once("close", () => this.#sessions.delete(session));
      session.on("error", () => undefined); // the socket's close does the bookkeeping
      if (this.#state === "draining" && this.#listenerClosed) session.close();
    });
    this.#h1.on("clientError", (_err, socket) => socket.destroy());
    this.#listener = net.createServer((socket) => this.#accept(socket));
  }

  /** The per-process socket this server listens on. */
  get socketPath(): string | undefined {
    return this.#socketPath;
  }

  get state(): ServerState {
    return this.#state;
  }

  /** Aborted when draining starts; handlers of long operations may watch it. */
  get drainSignal(): AbortSignal {
    return this.#drain.signal;
  }

  /** Calls in progress (unary and streaming). */
  get inflight(): number {
    return this.#inflight;
  }

  async listen(socketPath: string, options: ListenOptions = {}): Promise<void> {
    if (this.#state !== "created") throw new Error(`listen() called in state ${this.#state}`);
    assertSocketPath(socketPath);
    // A file left at our own path means a crashed process had our PID: reuse it only if dead.
    switch (await probeSocket(socketPath)) {
      case "listening":
        throw new TakoError("SOCKET_IN_USE", `another process already listens on ${socketPath}`);
      case "stale":
        await removeSocketFile(socketPath);
        break;
      case "missing":
        break;
    }
    await new Promise<void>((resolve, reject) => {
      this.#listener.once("error", reject);
      this.#listener.listen(socketPath, () => {
        this.#listener.off("error", reject);
        resolve();
      });
    });
    this.#socketPath = socketPath;
    this.#state = "listening";
    await chmod(socketPath, options.mode ?? 0o600);
    if (options.gid !== undefined) await chown(socketPath, -1, options.gid);
  }

  /**
   * Graceful stop: keep accepting for the grace period, then stop accepting, let every call in
   * flight finish (watch streams are ended so their clients reconnect elsewhere), close idle
   * connections, and resolve once no connection is left or the deadline passed.
   */
  async drain(options: DrainOptions = {}): Promise<void> {
    if (this.#state === "closed" || this.#state === "draining") return this.#drained;
    const graceMs = options.graceMs ?? 500;
    const deadlineMs = options.deadlineMs ?? 30_000;
    this.#state = "draining";
    this.#drain.abort(new ConnectError("the daemon is restarting; reconnect", Code.Unavailable));
    this.#drained = (async () => {
      const deadline = Date.now() + deadlineMs;
      if (graceMs > 0) await sleep(Math.min(graceMs, deadlineMs));
      this.#closeListener();
      for (const session of this.#sessions) session.close(); // GOAWAY: open streams finish, no new ones
      this.#h1.closeIdleConnections();
      while (this.#sockets.size > 0 && Date.now() < deadline) {
        await sleep(20);
        this.#h1.closeIdleConnections();
      }
      this.#destroyAll();
      this.#state = "closed";
      if (this.#socketPath) await removeSocketFile(this.#socketPath);
    })();
    return this.#drained;
  }

  /** Immediate stop: every connection is destroyed, calls in flight fail. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#drain.abort(new ConnectError("the daemon is stopping", Code.Unavailable));
    this.#state = "closed";
    this.#closeListener();
    this.#destroyAll();
    if (this.#socketPath) await removeSocketFile(this.#socketPath);
  }

  #closeListener(): void {
    if (this.#listenerClosed) return;
    this.#listenerClosed = true;
    // Stops accepting at once. Its callback would only fire once every connection has ended, so
    // it is not awaited; closing a path-bound listener also unlinks its socket file (libuv).
    this.#listener.close();
  }

  #destroyAll(): void {
    for (const session of this.#sessions) session.destroy();
    for (const socket of this.#sockets) socket.destroy();
  }

  #accept(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.once("close", () => this.#sockets.delete(socket));
    socket.on("error", () => undefined);
    const timer = setTimeout(() => socket.destroy(), FIRST_BYTE_TIMEOUT_MS);
    socket.once("close", () => clearTimeout(timer));
    socket.once("readable", () => {
      clearTimeout(timer);
      const head: Buffer | null = socket.read(H2_PREFACE.length) ?? socket.read();
      if (head === null) return socket.destroy();
      socket.unshift(head);
      const isH2 = H2_PREFACE.subarray(0, head.length).equals(head);
      (isH2 ? this.#h2 : this.#h1).emit("connection", socket);
    });
  }

  #trackCalls(cutOnDrain: (method: DescMethod) => boolean): Interceptor {
    return (next) => async (req) => {
      const cut =
        req.method.methodKind !== "unary" &&
        req.method.methodKind !== "client_streaming" &&
        cutOnDrain(req.method);
      if (cut && this.#drain.signal.aborted) throw this.#drain.signal.reason;
      this.#inflight++;
      let counted = true;
      const release = () => {
        if (counted) this.#inflight--;
        counted = false;
      };
      try {
        const res = await next(req);
        if (!res.stream) {
          release();
          return res;
        }
        const body = cut ? endOnAbort(res.message, this.#drain.signal) : res.message;
        return { ...res, message: releaseWhenDone(body, release) };
      } catch (err) {
        release();
        throw err;
      }
    };
  }
}

async function* releaseWhenDone<T>(
  stream: AsyncIterable<T>,
  release: () => void,
): AsyncGenerator<T, void, undefined> {
  try {
    yield* stream;
  } finally {
    release();
  }
}

/** Ends a response stream with the signal's reason as soon as the signal aborts. */
async function* endOnAbort<T>(
  stream: AsyncIterable<T>,
  signal: AbortSignal,
): AsyncGenerator<T, void, undefined> {
  const it = stream[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    for (;;) {
      const r = await Promise.race([it.next(), aborted]);
      if (r.done) return;
      yield r.value;
    }
  } finally {
    if (onAbort) signal.removeEventListener("abort", onAbort);
    // Not awaited: a generator parked on an await cannot return until that await settles.
    it.return?.()?.catch?.(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
