import * as http from "node:http";
import * as net from "node:net";
import type { Duplex } from "node:stream";
import type { DescService } from "@bufbuild/protobuf";
import { MethodOptions_IdempotencyLevel } from "@bufbuild/protobuf/wkt";
import {
  type Client,
  ConnectError,
  createClient,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { fromConnectError } from "./error-mapping.js";
import { assertSocketPath } from "./socket-path.js";

/** Default deadline of every call made through a channel. */
export const DEFAULT_CALL_TIMEOUT_MS = 30_000;

export interface RpcChannelOptions {
  /** Wire protocol. gRPC always runs over HTTP/2. Default "connect". */
  readonly protocol?: "connect" | "grpc";
  /** Default "2": one multiplexed connection per channel. */
  readonly httpVersion?: "1.1" | "2";
  /** Protobuf binary (default) or JSON (Connect protocol only). */
  readonly binary?: boolean;
  /** Deadline of each call unless the call sets its own; 0 for none. Default 30 s. */
  readonly timeoutMs?: number;
  /** Retries of a unary call that provably never reached a handler. Default 5. */
  readonly retries?: number;
  /** Opens the byte stream to the daemon (an SSH channel, say). Default: connect to the socket path. */
  readonly connect?: () => Duplex;
}

/** A transport to one daemon socket, with the connection it owns. Close it when done. */
export interface RpcChannel {
  readonly transport: Transport;
  readonly socketPath: string;
  close(): void;
}

// Failures that guarantee the request was never handled: nothing was connected (the socket is
// being swapped, or the daemon is restarting), or an HTTP/2 stream was refused or never opened
// because the server had sent GOAWAY. These are retried for every unary call.
const NEVER_SENT =
  /ECONNREFUSED|ENOENT|REFUSED_STREAM|GOAWAY|ERR_HTTP2_INVALID_SESSION|session has been destroyed/;
// A keep-alive HTTP/1.1 connection closed by a draining server just as the next request was
// written: the request was not handled in practice, but only idempotent calls are retried on it.
const RACED_CLOSE = /ECONNRESET|EPIPE|socket hang up/;

function failureText(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 4; depth++) {
    const x = e as { message?: unknown; code?: unknown; cause?: unknown };
    parts.push(String(x.message ?? ""), String(x.code ?? ""));
    e = x.cause;
  }
  return parts.join(" ");
}

function answeredByServer(err: unknown): boolean {
  return err instanceof ConnectError && [...err.metadata.keys()].length > 0;
}

/**
 * Retries unary calls whose failure proves the request was never processed, with a short
 * exponential backoff, within the call's deadline. This is what makes a daemon's graceful reload
 * invisible to callers: connections to the old process end, new calls go to the successor.
 */
export function retryInterceptor(retries: number): Interceptor {
  return (next) => async (req) => {
    if (req.stream) return next(req);
    const idempotent = req.method.idempotency !== MethodOptions_IdempotencyLevel.IDEMPOTENCY_UNKNOWN;
    for (let attempt = 0; ; attempt++) {
      try {
        return await next(req);
      } catch (err) {
        // An error the daemon answered with (its response carried headers) ran on the server,
        // whatever its text says (an app's startup output may well mention ECONNREFUSED).
        if (answeredByServer(err)) throw err;
        const text = failureText(err);
        const retriable = NEVER_SENT.test(text) || (idempotent && RACED_CLOSE.test(text));
        if (!retriable || attempt >= retries || req.signal.aborted) throw err;
        await new Promise((resolve) => setTimeout(resolve, Math.min(10 * 2 ** attempt, 500)));
      }
    }
  };
}

/** Opens a channel to the daemon listening on (or symlinked at) `socketPath`. */
export function createRpcChannel(socketPath: string, options: RpcChannelOptions = {}): RpcChannel {
  assertSocketPath(socketPath);
  const protocol = options.protocol ?? "connect";
  const httpVersion = protocol === "grpc" ? "2" : (options.httpVersion ?? "2");
  const connect = options.connect ?? (() => net.connect(socketPath));
  const common = {
    baseUrl: "http://localhost",
    useBinaryFormat: options.binary ?? true,
    // Connect reads a default of 0 as "already expired"; our contract says 0 means no deadline.
    ...(options.timeoutMs === 0 ? {} : { defaultTimeoutMs: options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS }),
    interceptors: [retryInterceptor(options.retries ?? 5)],
  };
  if (httpVersion === "1.1") {
    const agent = new http.Agent({ keepAlive: true });
    const nodeOptions: http.RequestOptions = { agent };
    if (options.connect) nodeOptions.createConnection = () => connect() as net.Socket;
    else nodeOptions.socketPath = socketPath;
    const transport = createConnectTransport({ ...common, httpVersion: "1.1", nodeOptions });
    return { transport, socketPath, close: () => agent.destroy() };
  }
  const sessionManager = new Http2SessionManager(
    common.baseUrl,
    { idleConnectionTimeoutMs: 60_000 },
    { createConnection: () => connect() },
  );
  const transport =
    protocol === "grpc"
      ? createGrpcTransport({ ...common, sessionManager })
      : createConnectTransport({ ...common, httpVersion: "2", sessionManager });
  return { transport, socketPath, close: () => sessionManager.abort() };
}

/**
 * A typed client of `service` over `channel`. Every failure, unary or mid-stream, surfaces as a
 * TakoError carrying the reason the daemon sent (Connect's own client would re-wrap anything an
 * interceptor throws, so the conversion happens here, around the client).
 */
export function createRpcClient<S extends DescService>(service: S, channel: RpcChannel): Client<S> {
  const client = createClient(service, channel.transport) as Record<string, (...args: unknown[]) => unknown>;
  const wrapped: Record<string, (...args: unknown[]) => unknown> = {};
  for (const method of service.methods) {
    const call = client[method.localName];
    if (!call) continue;
    wrapped[method.localName] =
      method.methodKind === "unary" || method.methodKind === "client_streaming"
        ? async (...args) => {
            try {
              return await call(...args);
            } catch (err) {
              throw fromConnectError(err);
            }
          }
        : (...args) => mapStreamErrors(call(...args) as AsyncIterable<unknown>);
  }
  return wrapped as Client<S>;
}

async function* mapStreamErrors<T>(stream: AsyncIterable<T>): AsyncGenerator<T, void, undefined> {
  try {
    yield* stream;
  } catch (err) {
    throw fromConnectError(err);
  }
}
