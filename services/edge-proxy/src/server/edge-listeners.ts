import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { SecureContext, TLSSocket } from "node:tls";
import type { EdgeMetrics, Listener } from "../metrics/edge-metrics.js";
import type { EdgeRequest, EdgeResponse } from "../static/static-response.js";
import type { SniResult } from "../tls/certificate-store.js";
import { ConnectionTracker } from "./connection-tracker.js";
import { type FrontHandler, Http1Front } from "./http1-front.js";

export interface EdgeListenersOptions {
  readonly metrics: EdgeMetrics;
  readonly handleHttps: (req: EdgeRequest, res: EdgeResponse) => void;
  /** HTTP/1.1-on-TLS requests the front serves itself (see Http1Front); the rest reach handleHttps. */
  readonly directHttps: FrontHandler;
  readonly upgradeHttps: (
    req: http.IncomingMessage,
    socket: import("node:stream").Duplex,
    head: Buffer,
  ) => void;
  readonly handleHttp: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  readonly sni: (servername: string) => SniResult;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  /** TLS session ticket keys (48 bytes), shared by every process of the generation. */
  readonly ticketKeys: Buffer;
}

/** Connections idle this long are closed during a drain (busy ones close after their response). */
const DRAIN_IDLE_CLOSE_MS = 500;

/** The same in every edge process (Node's default is derived from the command line). */
const SESSION_ID_CONTEXT = "tako-edge-proxy";

class CertificateMissing extends Error {
  readonly code = "TAKO_CERT_MISSING";
}

/**
 * The public listeners of one edge process: HTTPS (HTTP/2 and HTTP/1.1 by ALPN, certificate by
 * SNI) and plain HTTP (ACME answers and the redirect). They listen on sockets owned by the
 * daemon's master, so a reload never refuses a connection; `drain` stops accepting here (the
 * successor keeps accepting on the same sockets) and ends this process's connections softly.
 */
export class EdgeListeners {
  readonly https: http2.Http2SecureServer;
  readonly http: http.Server;
  readonly tracker: ConnectionTracker;
  readonly #front: Http1Front;
  /** Servers that accept on the public sockets (several handles of each), see `accept`. */
  #acceptors: net.Server[] = [];

  constructor(options: EdgeListenersOptions) {
    const { metrics } = options;
    const tracker = new ConnectionTracker(metrics);
    this.tracker = tracker;

    this.https = http2.createSecureServer(
      {
        allowHTTP1: true,
        noDelay: true,
        // Tickets are decrypted with the keys of the context a handshake starts with (this one),
        // not of the one SNI picks: both carry the generation's keys.
        ticketKeys: options.ticketKeys,
        // Node derives the default from the process's command line, which differs between the
        // primary and its helpers: a session from one would never resume in another.
        sessionIdContext: SESSION_ID_CONTEXT,
        handshakeTimeout: options.handshakeTimeoutMs,
        settings: { maxConcurrentStreams: 128 },
        SNICallback: (servername, callback) => {
          const found = options.sni(servername);
          if (found.kind === "found") callback(null, found.context as SecureContext);
          else callback(new CertificateMissing(`no certificate for ${servername}`), undefined);
        },
      },
      (req, res) => {
        if (req.httpVersionMajor === 1) {
          tracker.request(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse);
        }
        options.handleHttps(req, res);
      },
    );
    applyHttp1Timeouts(this.https, options);
    this.https.on("connection", (socket: net.Socket) => tracker.connection(socket, "https"));
    // Node's handler of TLS connections (h2 sessions, and its HTTP/1.1 server for the rest) only
    // gets HTTP/1.1 connections the front hands off.
    const [nodeHandler] = this.https.listeners("secureConnection") as ((socket: TLSSocket) => void)[];
    if (nodeHandler === undefined) throw new Error("node:http2 registered no secureConnection handler");
    this.https.removeListener("secureConnection", nodeHandler);
    const nodeServes = (socket: TLSSocket) => nodeHandler.call(this.https, socket);
    this.#front = new Http1Front({
      handler: options.directHttps,
      tracker,
      headersTimeoutMs: options.headersTimeoutMs,
      idleTimeoutMs: options.idleTimeoutMs,
      handOff: nodeServes,
    });
    this.https.on("secureConnection", (socket: TLSSocket) => {
      if (socket.alpnProtocol === "h2") {
        nodeServes(socket);
        return;
      }
      tracker.http1(socket);
      if (socket.alpnProtocol === false || socket.alpnProtocol === "http/1.1") this.#front.attach(socket);
      else nodeServes(socket);
    });
    this.https.on("session", (session: http2.ServerHttp2Session) => {
      tracker.session(session);
      session.on("error", () => undefined);
    });
    this.https.on("tlsClientError", (err: Error & { code?: string }) => {
      metrics.tlsHandshakeFailure(handshakeFailureReason(err));
    });
    this.https.on("upgrade", options.upgradeHttps);

    this.http = http.createServer({ maxHeaderSize: 16 * 1024 }, (req, res) => {
      tracker.request(req, res);
      options.handleHttp(req, res);
    });
    applyHttp1Timeouts(this.http, options);
    this.http.on("connection", (socket: net.Socket) => {
      tracker.connection(socket, "http");
      tracker.http1(socket);
    });
    for (const server of [this.https, this.http] as net.Server[]) {
      server.on("clientError", (_err: Error, socket: net.Socket) => socket.destroy());
      // These servers never listen themselves (connections come through `accept`), and Node
      // starts its periodic HTTP/1.1 header and request timeout checks on 'listening': without
      // this, slow clients would never be cut.
      server.emit("listening");
    }
  }

  /** The default certificate, served to clients that send no SNI. */
  setDefaultCertificate(cert: string, key: string, ticketKeys: Buffer): void {
    // setSecureContext resets what it is not given: the ticket keys and session id context too.
    this.https.setSecureContext({ cert, key, ticketKeys, sessionIdContext: SESSION_ID_CONTEXT });
  }

  /**
   * Accepts on handles of a master-owned public socket and serves what arrives. Every edge
   * process of a generation accepts on the same sockets itself: handing connections from one
   * process to another over IPC goes one connection per round trip (Node waits for the
   * receiver's acknowledgement of each handle), and under load that round trip is two busy
   * event-loop turns, so a burst of new connections waited seconds to be read.
   *
   * Each socket comes as several handles (descriptors of the same socket, see ACCEPT_HANDLES in
   * edge-proxy.ts): libuv accepts one connection per handle per event-loop turn (libuv#3696),
   * and a turn of a busy edge lasts milliseconds.
   */
  async accept(listener: Listener, handles: readonly object[]): Promise<void> {
    await Promise.all(
      handles.map((handle) => {
        // Paused until the HTTPS or HTTP server has taken the connection (adopt resumes it).
        const server = net.createServer({ pauseOnConnect: true, noDelay: true }, (socket) =>
          this.#adopt(socket, listener),
        );
        this.#acceptors.push(server);
        return listenOn(server, handle);
      }),
    );
  }

  #adopt(socket: net.Socket, listener: Listener): void {
    (listener === "https" ? this.https : this.http).emit("connection", socket);
    socket.resume();
  }

  /**
   * Soft drain: stop accepting, GOAWAY to HTTP/2 sessions, `Connection: close` on HTTP/1.1
   * responses, close idle connections; resolves when no connection is left or at the deadline
   * (then every remaining connection is cut).
   */
  async drain(deadlineMs: number): Promise<void> {
    // net.Server#close, not the http/http2 override: those also close every idle keep-alive
    // connection at once, which races with a client that is just sending its next request.
    for (const server of [this.https, this.http, ...this.#acceptors] as net.Server[]) {
      if (server.listening) net.Server.prototype.close.call(server);
    }
    this.tracker.startDrain();
    this.#front.close();
    const deadline = Date.now() + deadlineMs;
    while (this.tracker.size > 0 && Date.now() < deadline) {
      this.tracker.closeIdle(DRAIN_IDLE_CLOSE_MS);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    this.tracker.destroyAll();
  }
}

function applyHttp1Timeouts(server: net.Server, options: EdgeListenersOptions): void {
  // Http2SecureServer serves HTTP/1.1 through Node's http server code, which reads these
  // properties; they are not all constructor options there.
  const s = server as net.Server & {
    headersTimeout: number;
    requestTimeout: number;
    keepAliveTimeout: number;
    connectionsCheckingInterval: number;
    timeout: number;
  };
  s.headersTimeout = options.headersTimeoutMs;
  s.requestTimeout = options.requestTimeoutMs;
  s.keepAliveTimeout = options.idleTimeoutMs;
  // Header and request timeouts are enforced by a periodic check; check often enough.
  s.connectionsCheckingInterval = Math.min(1_000, options.headersTimeoutMs);
  // Inactivity on a connection (and on an HTTP/2 session): closed after this long.
  s.timeout = options.idleTimeoutMs;
}

function listenOn(server: net.Server, handle: object): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(handle, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

function handshakeFailureReason(err: Error & { code?: string }): string {
  if (err instanceof CertificateMissing || err.code === "TAKO_CERT_MISSING") return "cert_missing";
  if (err.code === "ERR_TLS_HANDSHAKE_TIMEOUT" || /timeout/i.test(err.message)) return "timeout";
  if (err.code === "ECONNRESET") return "reset";
  return "protocol";
}
