import assert from "node:assert/strict";
import { test } from "node:test";
import { EdgeMetrics, mergeSnapshots, renderMetrics } from "./edge-metrics.js";

test("snapshots of several processes merge into one exposition", () => {
  const a = new EdgeMetrics();
  const b = new EdgeMetrics();
  a.request("web/production", 200, 0.003);
  b.request("web/production", 200, 0.2);
  b.request("web/production", 502, 0.01);
  b.upstreamError("web/production");
  a.coldStart("web/production", "timeout");
  a.tlsHandshakeFailure("cert_missing");
  a.connectionOpened("https");
  b.connectionOpened("https");
  const text = renderMetrics(mergeSnapshots([a.snapshot(), b.snapshot()]), [
    { app: "web", env: "production", healthy: 2, desired: 3 },
  ]);
  assert.match(text, /^tako_edge_requests_total\{app="web",env="production",code="200"\} 2$/m);
  assert.match(text, /^tako_edge_requests_total\{app="web",env="production",code="502"\} 1$/m);
  assert.match(
    text,
    /^tako_edge_request_duration_seconds_bucket\{app="web",env="production",le="0.005"\} 1$/m,
  );
  assert.match(
    text,
    /^tako_edge_request_duration_seconds_bucket\{app="web",env="production",le="0.25"\} 3$/m,
  );
  assert.match(text, /^tako_edge_request_duration_seconds_count\{app="web",env="production"\} 3$/m);
  assert.match(text, /^tako_edge_active_connections\{listener="https"\} 2$/m);
  assert.match(text, /^tako_edge_cold_starts_total\{app="web",env="production",result="timeout"\} 1$/m);
  assert.match(text, /^tako_edge_tls_handshake_failures_total\{reason="cert_missing"\} 1$/m);
  assert.match(text, /^tako_edge_healthy_instances\{app="web",env="production"\} 2$/m);
  assert.match(text, /^tako_edge_desired_instances\{app="web",env="production"\} 3$/m);
});
