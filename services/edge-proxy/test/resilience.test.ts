// The edge's own state and processes under trouble: routes written by another generation, a
// damaged routes file, a helper process that dies.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { TakoError } from "@tako/errors";
import { isAlive, processesMentioning, waitFor } from "@tako/testkit";
import { httpsRequest } from "./helpers/clients.js";
import { type EdgeHarness, startEdge } from "./helpers/edge-harness.js";
import { type Echo, startUpstreamApp, type UpstreamApp } from "./helpers/upstream-app.js";

let edge: EdgeHarness;
let app: UpstreamApp;

before(async () => {
  edge = await startEdge({ defaultCertNames: ["one.test", "two.test"] });
  app = await startUpstreamApp("res-1");
  edge.supervisor.set({
    app: "res",
    env: "production",
    endpoints: [{ instanceId: app.instanceId, port: app.port }],
  });
  await edge.edge.setRoutes({ app: "res", env: "production", routes: ["one.test"] });
});

after(async () => {
  await edge?.stop();
  await app?.close();
});

const routesFile = () => join(edge.root, "opt/tako/state/edge/routes.json");
const get = (host: string) => httpsRequest(edge.httpsPort, { host, ca: edge.ca.certPem });

test("routes another edge generation writes to the routes file are picked up", async () => {
  assert.equal((await get("two.test")).status, 404);
  const stored = JSON.parse(await readFile(routesFile(), "utf8"));
  stored.deployments[0].routes.push("two.test");
  // As a predecessor does: a temporary file renamed over the old one.
  await writeFile(`${routesFile()}.x.tmp`, JSON.stringify(stored));
  const { rename } = await import("node:fs/promises");
  await rename(`${routesFile()}.x.tmp`, routesFile());
  await waitFor(async () => (await get("two.test")).status === 200, { what: "the new route to be served" });
  const { routes } = await edge.edge.listRoutes({});
  assert.deepEqual(routes.map((r) => r.pattern).sort(), ["one.test", "two.test"]);
});

test("a helper process that dies is replaced; the edge keeps answering", async () => {
  const helpers = async () =>
    (await processesMentioning(edge.root)).filter((p) => p.argv.some((a) => a.endsWith("helper-main.js")));
  const [helper] = await helpers();
  assert.ok(helper, "a helper runs");
  process.kill(helper.pid, "SIGKILL");
  await waitFor(() => !isAlive(helper.pid));
  for (let i = 0; i < 10; i++) assert.equal((await get("one.test")).status, 200);
  const replacement = await waitFor(async () => (await helpers()).find((p) => p.pid !== helper.pid), {
    what: "a new helper",
  });
  assert.notEqual(replacement.pid, helper.pid);
  const statuses = await Promise.all(Array.from({ length: 20 }, () => get("one.test").then((r) => r.status)));
  assert.deepEqual([...new Set(statuses)], [200]);
  assert.equal((JSON.parse((await get("one.test")).body) as Echo).instance, "res-1");
});

test("a damaged routes file stops the edge from starting, with the reason in its log", async () => {
  await edge.master.stop({ deadlineMs: 10_000 });
  await writeFile(routesFile(), "{ not json");
  await assert.rejects(edge.master.start(), (err: unknown) => TakoError.is(err, "DAEMON_START_FAILED"));
  assert.match(await edge.logs(), /ROUTE_STATE_CORRUPT/);
  // Repaired, it starts and serves the stored routes again.
  await writeFile(
    routesFile(),
    JSON.stringify({ version: 1, deployments: [{ app: "res", env: "production", routes: ["one.test"] }] }),
  );
  await edge.master.start();
  assert.equal((await get("one.test")).status, 200);
});
