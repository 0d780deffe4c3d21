import * as http from "node:http";
import * as net from "node:net";

/**
 * Serves GET /metrics (Prometheus text format) on a loopback socket owned by the daemon's
 * master. `render` is asked at each scrape.
 */
export class MetricsServer {
  readonly #server: http.Server;

  constructor(render: () => Promise<string>) {
    this.#server = http.createServer((req, res) => {
      if (req.url !== "/metrics" || (req.method !== "GET" && req.method !== "HEAD")) {
        res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("Not Found");
        return;
      }
      render().then(
        (text) => {
          res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
          res.end(req.method === "HEAD" ? undefined : text);
        },
        () => res.writeHead(500).end(),
      );
    });
    this.#server.keepAliveTimeout = 5_000;
  }

  listen(handle: object): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(handle, () => {
        this.#server.off("error", reject);
        resolve();
      });
    });
  }

  /** Stops accepting here (the successor keeps the socket) and closes this server's connections. */
  close(): void {
    if (this.#server.listening) net.Server.prototype.close.call(this.#server);
    this.#server.closeAllConnections();
  }
}
