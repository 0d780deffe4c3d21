import { Agent, type AgentOptions, type ClientRequest } from "node:http";
import type { Socket } from "node:net";

/** The parts of Node's Agent this class builds on that @types/node does not declare. */
interface AgentInternals {
  addRequest(req: ClientRequest, options: object): void;
  removeSocket(socket: Socket, options: object): void;
  reuseSocket(socket: Socket, req: ClientRequest): void;
}
type Pool = Record<string, Socket[] | undefined>;

const nodeAgent = Agent.prototype as unknown as AgentInternals;

/**
 * The keep-alive agent of one app instance: Node's Agent, with the per-request bookkeeping of a
 * single origin made cheap. Node's Agent serves many origins: for every request it copies the
 * request's options twice into null-prototype objects (http-proxy-3's options have ~25 keys),
 * derives the origin's name from them three times, and a freed socket is found by a linear search
 * of every busy one followed by a splice. With one origin the name is a constant, and the common
 * case (a free connection is waiting) needs none of that; measured on the edge benchmark, this
 * was about a fifth of the CPU time per proxied request.
 *
 * Everything else is Node's own code: opening connections, the free list and its limit, the
 * server's keep-alive hint, errors on idle connections, queueing past `maxSockets`. The only
 * thing skipped on reuse is giving the socket a fresh async id (async_hooks bookkeeping the edge
 * does not use). Connections are reused most recently used first ("lifo"): fewer, warmer ones.
 */
export class UpstreamAgent extends Agent {
  /** Node's name for the origin (host:port:), the key of every pool of this agent. */
  readonly #name: string;
  readonly #timeoutMs: number;

  constructor(host: string, port: number, options: Omit<AgentOptions, "keepAlive" | "scheduling"> = {}) {
    super({ ...options, keepAlive: true, scheduling: "lifo" });
    this.#name = `${host}:${port}:`;
    this.#timeoutMs = options.timeout ?? 0;
  }

  /** Every request of this agent goes to its one origin (Node calls this with each request's options). */
  override getName(): string {
    return this.#name;
  }

  /** Called by ClientRequest: a waiting connection if there is one, else Node's path. */
  addRequest(req: ClientRequest, options: object): void {
    const free = (this.freeSockets as Pool)[this.#name];
    if (free !== undefined) {
      let socket: Socket | undefined;
      while (socket === undefined && free.length > 0) {
        const candidate = free.pop() as Socket;
        // A destroyed one is on its way out (its close handler removes it); skip it.
        if (!candidate.destroyed) socket = candidate;
      }
      if (free.length === 0) delete (this.freeSockets as Pool)[this.#name];
      if (socket !== undefined) {
        // Node's: drops the idle-connection error listener, refs the socket, marks the request.
        nodeAgent.reuseSocket.call(this, socket, req);
        req.onSocket(socket);
        // As Node's setRequestSocket: a request's own timeout replaces the agent's.
        const timeoutMs = (req as ClientRequest & { timeout?: number }).timeout;
        if (timeoutMs !== undefined && timeoutMs !== this.#timeoutMs) socket.setTimeout(timeoutMs);
        const busy = (this.sockets as Pool)[this.#name];
        if (busy === undefined) (this.sockets as Pool)[this.#name] = [socket];
        else busy.push(socket);
        return;
      }
    }
    nodeAgent.addRequest.call(this, req, options);
  }

  /**
   * Called by Node when a connection is freed (it goes to the free list next) or closed. With no
   * request queued (never, unless `maxSockets` is reached) this only drops it from the pools;
   * busy connections have no order, so the last one takes its place (no splice).
   */
  removeSocket(socket: Socket, options: object): void {
    if ((this.requests as Pool)[this.#name] !== undefined) {
      nodeAgent.removeSocket.call(this, socket, options);
      return;
    }
    const busy = (this.sockets as Pool)[this.#name];
    if (busy !== undefined) {
      const i = busy.lastIndexOf(socket);
      if (i !== -1) {
        const last = busy.pop() as Socket;
        if (i < busy.length) busy[i] = last;
        if (busy.length === 0) delete (this.sockets as Pool)[this.#name];
      }
    }
    if (!socket.writable) {
      // Closed while idle: out of the free list too, keeping its order (the next reuse pops the end).
      const free = (this.freeSockets as Pool)[this.#name];
      const j = free === undefined ? -1 : free.indexOf(socket);
      if (free !== undefined && j !== -1) {
        free.splice(j, 1);
        if (free.length === 0) delete (this.freeSockets as Pool)[this.#name];
      }
    }
  }
}
