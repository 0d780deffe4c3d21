// edge-proxy as the local host runs it (startTestHost: every installed daemon, real processes,
// ports from the launcher): it answers on its ports and keeps its routes in the host's state.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { EdgeService } from "@tako/proto";
import { createRpcChannel, createRpcClient } from "@tako/rpc";
import { startTestHost, type TestHost } from "@tako/testkit";
import { getMetrics, httpRequest } from "./helpers/clients.js";

let host: TestHost;
before(async () => {
  host = await startTestHost();
});
after(() => host?.stop());

test("the local host starts edge-proxy on its ports: redirect, metrics, routes in the host's state", async () => {
  const r = await httpRequest(host.httpPort, { host: "app.example.test", path: "/x?y=1" });
  assert.equal(r.status, 307);
  assert.equal(r.headers.location, `https://app.example.test:${host.httpsPort}/x?y=1`);

  const metrics = await getMetrics(host.metricsPort);
  assert.match(metrics, /# TYPE tako_edge_requests_total counter/);

  const channel = createRpcChannel(host.socket("edge-proxy"));
  try {
    await createRpcClient(EdgeService, channel).setRoutes({
      app: "web",
      env: "production",
      routes: ["web.example.test"],
    });
  } finally {
    channel.close();
  }
  const stored = JSON.parse(await readFile(join(host.paths.stateDir, "edge/routes.json"), "utf8"));
  assert.deepEqual(stored.deployments, [{ app: "web", env: "production", routes: ["web.example.test"] }]);
});
