// Limits and failures through real sockets: 413, 429, slow clients, 502, TLS without a
// certificate, WebSocket upgrades and the Prometheus endpoint.
import assert from "node:assert/strict";
import type * as http from "node:http";
import * as https from "node:https";
import { connect as tcpConnect } from "node:net";
import { after, before, describe, test } from "node:test";
import { connect as tlsConnect } from "node:tls";
import { freePort, waitFor } from "@tako/testkit";
import WebSocket from "ws";
import { curl, getMetrics, h2Request, httpsRequest } from "./helpers/clients.js";
import { type EdgeHarness, startEdge } from "./helpers/edge-harness.js";
import { type Echo, startUpstreamApp, type UpstreamApp } from "./helpers/upstream-app.js";

let edge: EdgeHarness;
let app: UpstreamApp;

before(async () => {
  edge = await startEdge({
    defaultCertNames: ["lim.test", "dead.test", "ws.test"],
    flags: [
      "--max-body-bytes",
      "1024",
      "--max-requests-per-ip",
      "2",
      "--processes",
      "1",
      "--headers-timeout-ms",
      "1000",
      "--handshake-timeout-ms",
      "1000",
    ],
  });
  app = await startUpstreamApp("lim-1");
  edge.supervisor.set({
    app: "lim",
    env: "production",
    endpoints: [{ instanceId: app.instanceId, port: app.port }],
  });
  edge.supervisor.set({
    app: "ws",
    env: "production",
    endpoints: [{ instanceId: app.instanceId, port: app.port }],
  });
  // An instance that is reported healthy but whose port has nothing listening.
  edge.supervisor.set({
    app: "dead",
    env: "production",
    endpoints: [{ instanceId: "gone", port: await freePort() }],
  });
  await edge.edge.setRoutes({ app: "lim", env: "production", routes: ["lim.test"] });
  await edge.edge.setRoutes({ app: "dead", env: "production", routes: ["dead.test"] });
  await edge.edge.setRoutes({ app: "ws", env: "production", routes: ["ws.test/socket/*"] });
  await waitFor(async () => (await req("lim.test", "/")).status === 200, { what: "the route" });
});

after(async () => {
  await edge?.stop();
  await app?.close();
});

const req = (
  host: string,
  path: string,
  options: { method?: string; body?: string; headers?: http.OutgoingHttpHeaders } = {},
) => httpsRequest(edge.httpsPort, { host, path, ca: edge.ca.certPem, ...options });

describe("limits", () => {
  test("a Content-Length over the limit gets 413 before anything reaches the app (curl)", async () => {
    const before = app.requests.length;
    const r = await curl([
      "--resolve",
      `lim.test:${edge.httpsPort}:127.0.0.1`,
      "-k",
      "--http1.1",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "--data-binary",
      "x".repeat(2048),
      `https://lim.test:${edge.httpsPort}/upload`,
    ]);
    assert.equal(r.stdout, "413", r.stderr);
    assert.equal(app.requests.length, before);
    const ok = await req("lim.test", "/upload", { method: "POST", body: "x".repeat(1000) });
    assert.equal(ok.status, 200);
    assert.equal((JSON.parse(ok.body) as Echo).bodyBytes, 1000);
  });

  test("over HTTP/2 too: a declared or a streamed body past the limit gets 413, and the edge keeps serving", async () => {
    const declared = await h2Request(edge.httpsPort, "lim.test", "/up", edge.ca.certPem, {
      method: "POST",
      headers: { "content-length": "4096" },
      body: "x".repeat(4096),
    });
    assert.equal(declared.status, 413);
    const streamed = await h2Request(edge.httpsPort, "lim.test", "/up", edge.ca.certPem, {
      method: "POST",
      body: "x".repeat(4096),
    });
    assert.equal(streamed.status, 413);
    assert.equal((await h2Request(edge.httpsPort, "lim.test", "/after", edge.ca.certPem)).status, 200);
  });

  test("a chunked body that grows past the limit gets 413 (with the request id, as every answer)", async () => {
    const { status, requestId } = await new Promise<{ status: number; requestId: unknown }>(
      (resolve, reject) => {
        const r = https.request(
          {
            host: "127.0.0.1",
            port: edge.httpsPort,
            servername: "lim.test",
            path: "/stream",
            method: "POST",
            headers: { host: "lim.test", "transfer-encoding": "chunked" },
            ca: edge.ca.certPem,
            agent: false,
          },
          (res) => {
            res.resume();
            resolve({ status: res.statusCode ?? 0, requestId: res.headers["x-request-id"] });
          },
        );
        r.on("error", reject);
        const timer = setInterval(() => r.write("y".repeat(512)), 10);
        r.on("close", () => clearInterval(timer));
      },
    );
    assert.equal(status, 413);
    assert.match(String(requestId), /^[A-Za-z0-9_-]{16}$/);
    const small = await req("lim.test", "/stream", {
      method: "POST",
      body: "z".repeat(600),
      headers: { "transfer-encoding": "chunked" },
    });
    assert.equal(small.status, 200);
  });

  test("more concurrent requests from one IP than the cap get 429 with Retry-After", async () => {
    const seen = app.requests.length;
    // The app records a request when its body ends, before answering after 1.5 s.
    const slow = [req("lim.test", "/slow?ms=1500"), req("lim.test", "/slow?ms=1500")];
    await waitFor(() => app.requests.length >= seen + 2, { what: "both slow requests to be in flight" });
    const third = await req("lim.test", "/");
    assert.equal(third.status, 429);
    assert.equal(third.headers["retry-after"], "1");
    assert.deepEqual(
      (await Promise.all(slow)).map((r) => r.status),
      [200, 200],
    );
    assert.equal((await req("lim.test", "/")).status, 200, "the cap frees up when requests finish");
  });

  test("a client that never finishes its headers is disconnected (slowloris)", async () => {
    const closedAfterMs = await new Promise<number>((resolve, reject) => {
      const started = Date.now();
      const socket = tlsConnect(
        {
          host: "127.0.0.1",
          port: edge.httpsPort,
          servername: "lim.test",
          ca: edge.ca.certPem,
          ALPNProtocols: ["http/1.1"],
        },
        () => {
          socket.write("GET / HTTP/1.1\r\nHost: lim.test\r\nX-Slow: ");
        },
      );
      socket.on("error", () => undefined);
      socket.on("close", () => resolve(Date.now() - started));
      setTimeout(() => reject(new Error("still open after 15 s")), 15_000).unref();
    });
    assert.ok(closedAfterMs >= 900, `closed after ${closedAfterMs} ms`);
  });

  test("a TCP client that never starts TLS is disconnected", async () => {
    await new Promise<void>((resolve, reject) => {
      const socket = tcpConnect(edge.httpsPort, "127.0.0.1");
      socket.on("error", () => undefined);
      socket.on("close", () => resolve());
      setTimeout(() => reject(new Error("still open after 15 s")), 15_000).unref();
    });
  });
});

describe("failures", () => {
  test("an instance that cannot be reached gives a generic 502", async () => {
    const r = await req("dead.test", "/x");
    assert.equal(r.status, 502);
    assert.equal(r.body, "Bad Gateway");
    assert.equal(r.headers["cache-control"], "private, no-store");
  });

  test("an unknown SNI gets the default certificate; without any certificate the handshake fails", async () => {
    const r = await httpsRequest(edge.httpsPort, { host: "unrouted.test", path: "/" });
    assert.equal(r.status, 404);
    const bare = await startEdge({ defaultCertNames: null });
    try {
      await assert.rejects(httpsRequest(bare.httpsPort, { host: "lim.test", path: "/" }));
      const metrics = await waitFor(
        async () => {
          const text = await getMetrics(bare.metricsPort);
          return /tako_edge_tls_handshake_failures_total\{reason="cert_missing"\} [1-9]/.test(text) && text;
        },
        { what: "the handshake failure metric" },
      );
      assert.ok(metrics);
    } finally {
      await bare.stop();
    }
  });
});

describe("WebSocket", () => {
  test("an upgrade is routed and proxied both ways", async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${edge.httpsPort}/socket/chat`, [], {
      headers: { host: "ws.test" },
      servername: "ws.test",
      ca: edge.ca.certPem,
    } as WebSocket.ClientOptions);
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on("open", () => ws.send("ping"));
      ws.on("message", (data) => resolve(String(data)));
      ws.on("error", reject);
    });
    ws.close();
    assert.equal(reply, "lim-1:https:ping");
  });

  test("an upgrade for an unknown host gets 404", async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${edge.httpsPort}/socket/chat`, [], {
      headers: { host: "nobody.test" },
      servername: "lim.test",
      ca: edge.ca.certPem,
    } as WebSocket.ClientOptions);
    const status = await new Promise<number>((resolve) => {
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
      ws.on("error", () => resolve(-1));
    });
    assert.equal(status, 404);
  });
});

describe("metrics", () => {
  test("Prometheus metrics on 127.0.0.1 count requests, latency, connections and instances", async () => {
    const text = await getMetrics(edge.metricsPort);
    assert.match(text, /tako_edge_requests_total\{app="lim",env="production",code="200"\} [1-9]/);
    assert.match(text, /tako_edge_requests_total\{app="lim",env="production",code="429"\} [1-9]/);
    assert.match(text, /tako_edge_requests_total\{app="dead",env="production",code="502"\} [1-9]/);
    assert.match(
      text,
      /tako_edge_request_duration_seconds_bucket\{app="lim",env="production",le="\+Inf"\} [1-9]/,
    );
    assert.match(text, /tako_edge_active_connections\{listener="https"\} \d+/);
    assert.match(text, /tako_edge_upstream_errors_total\{app="dead",env="production"\} [1-9]/);
    assert.match(text, /tako_edge_healthy_instances\{app="lim",env="production"\} 1/);
    assert.match(text, /tako_edge_cold_starts_total/);
  });
});
