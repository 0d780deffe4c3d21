import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { answerHandlerFailure } from "./handler-failure.js";
import {
  answerInternal,
  type InstanceStatus,
  isInternalRequest,
  type StatusBody,
  TOKEN_HEADER,
} from "./internal-endpoint.js";

export interface AppServerOptions {
  readonly token: string;
  readonly listener: RequestListener;
  readonly appName: string;
  readonly version: string;
  readonly instanceId: string;
}

/**
 * The HTTP server of an instance: requests to `tako.internal` are answered by the SDK (the app
 * never sees them, nor the token header on any request); everything else goes to the app, with
 * traffic counters the supervisor reads through `/status` to stop idle instances.
 */
export class AppServer {
  status: InstanceStatus = "starting";
  readonly #options: AppServerOptions;
  readonly #server: Server;
  readonly #startedAt = Date.now();
  #requestsTotal = 0;
  #inflight = 0;
  #idleSince = Date.now();
  #closed: Promise<void> | undefined;

  constructor(options: AppServerOptions) {
    this.#options = options;
    this.#server = createServer((req, res) => this.#route(req, res));
  }

  /** Listens on host:port (port 0: any free port) and resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, host, () => {
        this.#server.off("error", reject);
        resolve((this.#server.address() as AddressInfo).port);
      });
    });
  }

  /**
   * Stops accepting, lets requests in flight finish (their connections close after the
   * response), closes idle keep-alive connections, and resolves once no connection is left.
   */
  drain(): Promise<void> {
    this.status = "draining";
    this.#closed ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeIdleConnections();
    });
    return this.#closed;
  }

  statusBody(): StatusBody {
    const now = Date.now();
    return {
      status: this.status,
      app: this.#options.appName,
      version: this.#options.version,
      instance_id: this.#options.instanceId,
      pid: process.pid,
      uptime_seconds: Math.floor((now - this.#startedAt) / 1000),
      requests_total: this.#requestsTotal,
      inflight: this.#inflight,
      idle_ms: this.#inflight > 0 ? 0 : now - this.#idleSince,
    };
  }

  #route(req: IncomingMessage, res: ServerResponse): void {
    if (isInternalRequest(req)) {
      answerInternal(req, res, this.#options.token, () => this.statusBody());
      return;
    }
    if (req.headers[TOKEN_HEADER] !== undefined) {
      delete req.headers[TOKEN_HEADER];
      req.rawHeaders = req.rawHeaders.filter(
        (_, i, all) => (all[i - (i % 2)] ?? "").toLowerCase() !== TOKEN_HEADER,
      );
    }
    if (this.status === "draining") res.shouldKeepAlive = false;
    this.#inflight++;
    res.once("close", () => {
      this.#inflight--;
      this.#requestsTotal++;
      this.#idleSince = Date.now();
      if (this.status === "draining") this.#server.closeIdleConnections();
    });
    try {
      this.#options.listener(req, res);
    } catch (err) {
      answerHandlerFailure(res, "the request listener threw", err);
    }
  }
}
