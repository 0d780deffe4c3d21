import type { IncomingMessage, ServerResponse } from "node:http";
import type { Http2Session } from "node:http2";
import type { Socket } from "node:net";
import type { EdgeMetrics, Listener } from "../metrics/edge-metrics.js";

interface H1State {
  inflight: number;
  idleSinceMs: number;
}

const kState = Symbol("tako.h1state");
type H1Socket = Socket & { [kState]?: H1State };

/**
 * Every client connection of one edge process, for the soft drain of a reload: after the
 * listeners stop accepting, HTTP/1.1 responses carry `Connection: close`, HTTP/2 sessions get a
 * GOAWAY (open streams finish), connections idle for a while are closed, and the process exits
 * once none is left. Connections are never moved to the successor; they simply end here.
 */
export class ConnectionTracker {
  readonly #metrics: EdgeMetrics;
  readonly #sockets = new Set<Socket>();
  readonly #h1 = new Set<H1Socket>();
  readonly #sessions = new Set<Http2Session>();
  #draining = false;

  constructor(metrics: EdgeMetrics) {
    this.#metrics = metrics;
  }

  get draining(): boolean {
    return this.#draining;
  }

  get size(): number {
    return this.#sockets.size;
  }

  /** A TCP connection was accepted on `listener`. */
  connection(socket: Socket, listener: Listener): void {
    this.#sockets.add(socket);
    this.#metrics.connectionOpened(listener);
    socket.once("close", () => {
      this.#sockets.delete(socket);
      this.#metrics.connectionClosed(listener);
    });
  }

  /** The connection speaks HTTP/1.1 (plain, or TLS negotiated without h2). */
  http1(socket: Socket): void {
    const s = socket as H1Socket;
    s[kState] = { inflight: 0, idleSinceMs: Date.now() };
    this.#h1.add(s);
    socket.once("close", () => this.#h1.delete(s));
  }

  session(session: Http2Session): void {
    this.#sessions.add(session);
    session.once("close", () => this.#sessions.delete(session));
    if (this.#draining) session.close();
  }

  /** Called for each HTTP/1.1 request Node's server parses; tracks busy/idle and asks for close while draining. */
  request(req: IncomingMessage, res: ServerResponse): void {
    this.requestStarted(req.socket);
    res.on("close", () => this.requestEnded(req.socket));
    if (this.#draining) res.shouldKeepAlive = false;
  }

  /** An HTTP/1.1 request on `socket` is being answered (Node's server, or the front). */
  requestStarted(socket: Socket): void {
    const state = (socket as H1Socket)[kState];
    if (state) state.inflight++;
  }

  /** Its response is out (or the connection closed under it). */
  requestEnded(socket: Socket): void {
    const state = (socket as H1Socket)[kState];
    if (state) {
      state.inflight--;
      state.idleSinceMs = Date.now();
    }
  }

  /** Starts the soft drain: GOAWAY now; HTTP/1.1 connections close after their next response. */
  startDrain(): void {
    this.#draining = true;
    for (const session of this.#sessions) session.close();
  }

  /** Closes HTTP/1.1 connections idle for at least `idleMs` (no request in progress). */
  closeIdle(idleMs: number): void {
    const now = Date.now();
    for (const s of this.#h1) {
      const state = s[kState];
      if (state && state.inflight === 0 && now - state.idleSinceMs >= idleMs) s.destroy();
    }
  }

  destroyAll(): void {
    for (const session of this.#sessions) session.destroy();
    for (const socket of this.#sockets) socket.destroy();
  }
}
