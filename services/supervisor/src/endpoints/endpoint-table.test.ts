import assert from "node:assert/strict";
import { test } from "node:test";
import { type AppEndpointsView, type EndpointChange, EndpointTable } from "./endpoint-table.js";

const view = (app: string, ports: number[], desired = 1): AppEndpointsView => ({
  app,
  env: "production",
  endpoints: ports.map((port, i) => ({ instanceId: `i${i}`, host: "127.0.0.1", port, version: "v1" })),
  desiredInstances: desired,
  releaseDir: `/r/${app}`,
});

async function take(it: AsyncIterator<EndpointChange>): Promise<EndpointChange> {
  const r = await it.next();
  assert.ok(!r.done);
  return r.value;
}

test("a watch starts with a snapshot, then gets each change, coalesced per app", async () => {
  const table = new EndpointTable();
  table.set(view("a", [1000]));
  const abort = new AbortController();
  const it = table.watch(abort.signal)[Symbol.asyncIterator]();
  assert.deepEqual(await take(it), { snapshot: true, apps: [view("a", [1000])] });

  table.set(view("a", [1000, 1001]));
  table.set(view("a", [1001]));
  table.set(view("b", []));
  const change = await take(it);
  assert.equal(change.snapshot, false);
  assert.deepEqual(change.apps, [view("a", [1001]), view("b", [])], "the latest state of each app, once");

  table.set(view("a", [1001]));
  table.remove("b/production");
  assert.deepEqual(
    await take(it),
    { snapshot: false, apps: [], removed: ["b/production"] },
    "an unchanged view is not sent",
  );
  abort.abort();
  assert.equal((await it.next()).done, true);
});
