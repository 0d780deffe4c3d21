import { connect, type Socket } from "node:net";
import { HTTPParser, type HttpParser } from "../http/llhttp.js";

/** What one exchange on a connection is told about the response to its request. */
export interface ResponseSink {
  /** The final response's head (1xx are skipped). The body follows unless the request was HEAD. */
  head(status: number, statusText: string, rawHeaders: string[]): void;
  body(chunk: Buffer): void;
  /**
   * The response is complete. Returns whether the request side is complete too (its body fully
   * sent), which with the instance's keep-alive lets the connection serve another request.
   */
  end(): boolean;
  /**
   * The connection failed before the response completed. `replayable`: it was a reused
   * keep-alive connection and nothing of a response arrived, the race where the instance closed
   * an idle connection as the request was written; a bodyless request may be sent again.
   */
  fail(err: Error, replayable: boolean): void;
}

export interface UpstreamPoolOptions {
  /** Idle keep-alive connections kept open (more are closed as they are freed). */
  readonly maxIdle?: number;
  /** An instance that sends nothing for this long fails the request; idle connections close. */
  readonly timeoutMs: number;
  /** Largest response head accepted (Node's default: 16 KiB). */
  readonly maxHeaderBytes?: number;
}

/** Where every upstream connection of the process reads into (see UpstreamPool.connect). */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** Node's agent frees a connection this long before the instance's announced keep-alive timeout. */
const KEEP_ALIVE_MARGIN_MS = 1000;

/**
 * One keep-alive connection to an app instance: a socket and its response parser, serving one
 * request at a time.
 */
export class UpstreamConnection {
  readonly socket: Socket;
  readonly #pool: UpstreamPool;
  readonly #parser: HttpParser;
  #sink: ResponseSink | null = null;
  /** Requests this connection completed (0: it is new). */
  #served = 0;
  /** Whether any byte of the current response arrived. */
  #received = false;
  #skipBody = false;
  /** The message being parsed is a 1xx. */
  #interim = false;
  /** The instance's response allows another request on this connection. */
  #keepAlive = false;
  /** Until when an idle connection may be reused (the instance's Keep-Alive timeout). */
  expiresAt = Number.POSITIVE_INFINITY;
  /** Headers of a head longer than llhttp hands over at once. */
  #partialHeaders: string[] = [];

  constructor(pool: UpstreamPool, socket: Socket, maxHeaderBytes: number) {
    this.#pool = pool;
    this.socket = socket;
    const parser = new HTTPParser();
    parser.initialize(HTTPParser.RESPONSE, {}, maxHeaderBytes, HTTPParser.kLenientNone);
    parser[HTTPParser.kOnHeaders] = (headers: string[]) => {
      for (const h of headers) this.#partialHeaders.push(h);
    };
    parser[HTTPParser.kOnHeadersComplete] = this.#onHead;
    parser[HTTPParser.kOnBody] = this.#onBody;
    parser[HTTPParser.kOnMessageComplete] = this.#onComplete;
    this.#parser = parser;
    socket.on("end", this.#onEnd);
    socket.on("error", this.#onError);
    socket.on("timeout", this.#onTimeout);
    socket.on("close", this.#onClose);
  }

  /** Sends a request head (its body, if any, is the caller's to write on `socket`). */
  send(head: string, sink: ResponseSink, skipBody: boolean): void {
    this.#sink = sink;
    this.#received = false;
    this.#skipBody = skipBody;
    this.socket.write(head, "latin1");
  }

  /** Closes the connection without telling the current exchange (it gave up on it). */
  abandon(): void {
    this.#sink = null;
    this.socket.destroy();
  }

  /** Bytes from the instance (in the pool's shared read buffer: used before this returns). */
  read(chunk: Buffer): void {
    if (this.#sink === null) {
      // Bytes nobody asked for: the connection's framing can no longer be trusted.
      this.socket.destroy();
      return;
    }
    this.#received = true;
    const parsed = this.#parser.execute(chunk);
    if (parsed instanceof Error) this.#fail(parsed);
    else if (parsed !== chunk.length && this.#sink !== null) {
      // llhttp stops early only at an upgrade (101 or CONNECT), which a proxied request never asked for.
      this.#fail(new Error("the instance switched protocols on a plain request"));
    }
  }

  readonly #onHead = (
    _major: number,
    _minor: number,
    headers: string[] | undefined,
    _method: unknown,
    _url: unknown,
    status: number,
    statusText: string,
    _upgrade: boolean,
    keepAlive: boolean,
  ): number => {
    if (this.#sink === null) {
      // A response nobody asked for (after the one that completed, in the same read).
      this.socket.destroy();
      return 1;
    }
    let raw = headers;
    if (raw === undefined) {
      raw = this.#partialHeaders;
      this.#partialHeaders = [];
    }
    // 1xx (100 Continue, 103 Early Hints): interim, the final response follows on this connection.
    if (status < 200) {
      this.#interim = true;
      return 1;
    }
    this.#keepAlive = keepAlive;
    if (keepAlive) this.expiresAt = keepAliveDeadline(raw);
    this.#sink.head(status, statusText, raw);
    // 1: the response to a HEAD request has no body, whatever its Content-Length says.
    return this.#skipBody ? 1 : 0;
  };

  readonly #onBody = (chunk: Buffer): void => {
    this.#sink?.body(chunk);
  };

  readonly #onComplete = (): void => {
    const sink = this.#sink;
    if (sink === null) return;
    if (this.#interim) {
      this.#interim = false; // the final response follows
      return;
    }
    this.#sink = null;
    this.#served++;
    const requestDone = sink.end();
    if (requestDone && this.#keepAlive) this.#pool.release(this);
    else this.socket.destroy();
  };

  readonly #onEnd = (): void => {
    // The instance closed its side: a close-delimited body ends here; anything else is cut short.
    if (this.#sink !== null) {
      const result = this.#parser.finish();
      if (result instanceof Error) this.#fail(result);
    }
    if (this.#sink !== null) this.#fail(new Error("the instance closed the connection mid-response"));
    this.socket.destroy();
  };

  readonly #onError = (err: Error): void => {
    this.#fail(err);
  };

  readonly #onTimeout = (): void => {
    // A hung instance: sending the request again would only wait as long once more.
    if (this.#sink !== null)
      this.#fail(new Error("the instance sent nothing before the upstream timeout"), false);
    this.socket.destroy();
  };

  readonly #onClose = (): void => {
    this.#fail(new Error("the connection to the instance closed"));
    this.#pool.forget(this);
    this.#parser.free();
  };

  #fail(err: Error, replayable = this.#served > 0 && !this.#received): void {
    const sink = this.#sink;
    this.#sink = null;
    this.socket.destroy();
    sink?.fail(err, replayable);
  }
}

/**
 * The keep-alive connections of one app instance, reused most recently used first (fewer,
 * warmer connections). Replaces Node's http.Agent + ClientRequest on the proxy's hot path: a
 * request is one write of its head on a waiting connection, its response is parsed by llhttp
 * straight into the client's response (no IncomingMessage, no pipe). Measured on bench/edge,
 * the Agent/ClientRequest/IncomingMessage path was more than half of a proxied request's CPU.
 */
export class UpstreamPool {
  readonly host: string;
  readonly port: number;
  readonly #idle: UpstreamConnection[] = [];
  readonly #maxIdle: number;
  readonly #timeoutMs: number;
  readonly #maxHeaderBytes: number;
  #open = 0;
  #retired = false;

  constructor(host: string, port: number, options: UpstreamPoolOptions) {
    this.host = host;
    this.port = port;
    this.#maxIdle = options.maxIdle ?? 256;
    this.#timeoutMs = options.timeoutMs;
    this.#maxHeaderBytes = options.maxHeaderBytes ?? 16 * 1024;
  }

  /** Connections open to the instance (idle and busy). */
  get openCount(): number {
    return this.#open;
  }

  get idleCount(): number {
    return this.#idle.length;
  }

  /** A waiting connection if one is still good, else a new one. */
  acquire(): UpstreamConnection {
    const now = Date.now();
    while (this.#idle.length > 0) {
      const conn = this.#idle.pop() as UpstreamConnection;
      if (conn.socket.destroyed) continue;
      if (conn.expiresAt <= now) {
        conn.abandon();
        continue;
      }
      return conn;
    }
    return this.connect();
  }

  /** A new connection (the retry of a request whose reused connection had just been closed). */
  connect(): UpstreamConnection {
    let conn: UpstreamConnection | undefined;
    const socket = connect({
      host: this.host,
      port: this.port,
      noDelay: true,
      // Reads land in one buffer the process's connections share, and go to the parser without a
      // stream in between (no buffer allocated per read, no 'data' event): the parser hands body
      // bytes on as copies, headers as strings, so nothing refers to the buffer afterwards.
      onread: {
        buffer: READ_BUFFER,
        callback: (bytes: number, buffer: Uint8Array) => {
          conn?.read((buffer as Buffer).subarray(0, bytes));
          return true; // (false would pause the socket)
        },
      },
    });
    socket.setTimeout(this.#timeoutMs);
    this.#open++;
    conn = new UpstreamConnection(this, socket, this.#maxHeaderBytes);
    return conn;
  }

  /** A connection whose exchange completed, free for the next request. */
  release(conn: UpstreamConnection): void {
    if (this.#retired || this.#idle.length >= this.#maxIdle || conn.socket.destroyed) {
      conn.abandon();
      return;
    }
    this.#idle.push(conn);
  }

  /** Called as a connection closes. */
  forget(conn: UpstreamConnection): void {
    this.#open--;
    const i = this.#idle.lastIndexOf(conn);
    if (i !== -1) this.#idle.splice(i, 1);
  }

  /**
   * The instance left the healthy set (or the edge stops): idle connections close now, busy
   * ones after their response; no request is sent through this pool again.
   */
  retire(): void {
    this.#retired = true;
    for (const conn of this.#idle.splice(0)) conn.abandon();
  }
}

/**
 * When a kept-alive connection stops being safe to reuse: the instance's `Keep-Alive: timeout=N`
 * (Node's http server sends 5 s by default) minus a margin, as Node's agent does; never without one.
 */
function keepAliveDeadline(raw: readonly string[]): number {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length !== 10 || name.toLowerCase() !== "keep-alive") continue;
    const match = /(?:^|[,\s])timeout=(\d+)/i.exec(raw[i + 1] as string);
    if (match) return Date.now() + Number(match[1]) * 1000 - KEEP_ALIVE_MARGIN_MS;
  }
  return Number.POSITIVE_INFINITY;
}
