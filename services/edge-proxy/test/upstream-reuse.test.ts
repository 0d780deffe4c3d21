// Upstream connections are reused across bursts of concurrent requests larger than Node's usual
// idle cap (256): one edge process, 300 requests in flight at once, twice; the second burst
// finds the first burst's connections waiting instead of opening new ones.
import assert from "node:assert/strict";
import * as https from "node:https";
import { after, before, test } from "node:test";
import { httpsRequest } from "./helpers/clients.js";
import { type EdgeHarness, startEdge } from "./helpers/edge-harness.js";
import { startUpstreamApp, type UpstreamApp } from "./helpers/upstream-app.js";

const BURST = 300;
let edge: EdgeHarness;
let app: UpstreamApp;
let agent: https.Agent;

before(async () => {
  edge = await startEdge({ defaultCertNames: ["burst.test"], flags: ["--processes", "1"] });
  app = await startUpstreamApp("burst-1");
  edge.supervisor.set({
    app: "burst",
    env: "production",
    endpoints: [{ instanceId: app.instanceId, port: app.port }],
  });
  await edge.edge.setRoutes({ app: "burst", env: "production", routes: ["burst.test"] });
  agent = new https.Agent({ keepAlive: true, maxSockets: BURST, ca: edge.ca.certPem });
});

after(async () => {
  agent?.destroy();
  await edge?.stop();
  await app?.close();
});

async function burst(): Promise<void> {
  const replies = await Promise.all(
    Array.from({ length: BURST }, () =>
      httpsRequest(edge.httpsPort, { host: "burst.test", path: "/slow?ms=300", ca: edge.ca.certPem, agent }),
    ),
  );
  assert.deepEqual(new Set(replies.map((r) => r.status)), new Set([200]));
}

test("a second burst of concurrent requests reuses the first burst's upstream connections", async () => {
  await burst();
  const afterFirst = app.connections;
  assert.ok(
    afterFirst >= BURST * 0.9,
    `the first burst needed about one connection per request (${afterFirst})`,
  );
  await burst();
  assert.ok(
    app.connections - afterFirst <= BURST * 0.05,
    `the second burst opened ${app.connections - afterFirst} new connections`,
  );
});
