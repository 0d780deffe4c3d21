import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";

/** What an upstream app saw of a request; it answers with this as JSON. */
export interface Echo {
  readonly instance: string;
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly bodyBytes: number;
}

export interface UpstreamApp {
  readonly instanceId: string;
  readonly port: number;
  /** Requests received so far. */
  readonly requests: Echo[];
  /** TCP connections accepted so far (keep-alive reuse keeps this low). */
  connections: number;
  close(): Promise<void>;
}

/**
 * A real app instance on 127.0.0.1: answers every request with a JSON echo of what it received,
 * `/slow?ms=N` after N ms, and echoes WebSocket messages.
 */
export async function startUpstreamApp(instanceId: string): Promise<UpstreamApp> {
  const requests: Echo[] = [];
  const server = http.createServer((req, res) => {
    let bodyBytes = 0;
    req.on("data", (c: Buffer) => {
      bodyBytes += c.length;
    });
    req.on("end", () => {
      const echo: Echo = {
        instance: instanceId,
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        bodyBytes,
      };
      requests.push(echo);
      const ms = /^\/slow\?ms=(\d+)/.exec(req.url ?? "")?.[1];
      const send = () => {
        res.setHeader("content-type", "application/json");
        res.setHeader("x-instance", instanceId);
        res.end(JSON.stringify(echo));
      };
      if (ms) setTimeout(send, Number(ms));
      else send();
    });
  });
  server.keepAliveTimeout = 30_000;
  const app: UpstreamApp = {
    instanceId,
    port: 0,
    requests,
    connections: 0,
    close: async () => {
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  server.on("connection", () => {
    app.connections++;
  });
  const wss = new WebSocketServer({ server });
  wss.on("connection", (socket, req) => {
    socket.on("message", (data) =>
      socket.send(`${instanceId}:${req.headers["x-forwarded-proto"]}:${String(data)}`),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  (app as { port: number }).port = (server.address() as AddressInfo).port;
  return app;
}
