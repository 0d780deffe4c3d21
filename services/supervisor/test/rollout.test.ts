// Rolling updates: a release that fails to stay healthy is rolled back (the old one keeps
// serving, `current` does not move, and it never got a request meanwhile); a good one replaces
// every instance under load without a single failed request, and `current` moves once it is live.
import assert from "node:assert/strict";
import { readlink } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { TakoError } from "@tako/errors";
import { InstanceState } from "@tako/proto";
import { waitFor } from "@tako/testkit";
import { httpGet } from "./helpers/http.js";
import { TestRouter } from "./helpers/router.js";
import { type SupervisorHost, startSupervisorHost } from "./helpers/supervisor.js";

let sv: SupervisorHost;
before(async () => {
  sv = await startSupervisorHost();
  const first = await sv.deploy({
    app: "rolly",
    version: "v1",
    fixture: "crashy",
    vars: { RELEASE_LABEL: "v1" },
  });
  assert.ok(first.at(-1)?.done);
  await sv.client.scale({ app: "rolly", env: "production", instances: 2 });
});
after(() => sv?.stop());

const current = () => readlink(join(sv.host.paths.appDir("rolly", "production"), "current"));

async function instances() {
  const { apps } = await sv.client.status({ app: "rolly", env: "production" });
  return apps[0]?.instances ?? [];
}

test("a release that fails to stay healthy leaves the old release serving, and never got a request", async () => {
  const before = await instances();
  assert.deepEqual(
    before.map((i) => [i.state, i.version]),
    [
      [InstanceState.HEALTHY, "v1"],
      [InstanceState.HEALTHY, "v1"],
    ],
  );
  assert.equal(await current(), "releases/v1");
  const router = new TestRouter(sv.client, "rolly");
  router.start();
  await waitFor(() => router.endpoints.length === 2, { what: "both v1 endpoints" });
  // Healthy at its first probe, dead 600 ms later: inside the stability window, during which a
  // new instance stays out of the endpoints table while the old release serves.
  await assert.rejects(
    sv.deploy({
      app: "rolly",
      version: "v2",
      fixture: "crashy",
      vars: { RELEASE_LABEL: "v2", CRASH_AFTER_MS: "600" },
    }),
    (err: unknown) => {
      assert.ok(TakoError.is(err, "ROLLOUT_FAILED"), String(err));
      assert.match(
        err.message,
        /rollout of release v2 failed: new instance \w{8} of v2 exited after it became healthy/,
      );
      assert.match(err.hint, /The previous release keeps serving/);
      return true;
    },
  );
  await router.stop();
  assert.deepEqual([...router.versionsSeen], ["v1"], "v2 never entered the endpoints table");
  const after = await instances();
  assert.deepEqual(
    after.map((i) => [i.pid, i.state, i.version]),
    before.map((i) => [i.pid, InstanceState.HEALTHY, "v1"]),
    "the same two v1 processes still serve",
  );
  for (const i of after) {
    const res = await httpGet(i.port, "/", { host: "rolly.example.com" });
    assert.equal(JSON.parse(res.body).release, "v1");
  }
  assert.equal(await current(), "releases/v1", "current still points at v1");
  const { apps } = await sv.client.status({ app: "rolly", env: "production" });
  assert.equal(apps[0]?.version, "v1");
  assert.match(apps[0]?.lastError ?? "", /rollout of release v2 failed/);
});

test("a good release replaces every instance under load without a failed request", async () => {
  const router = new TestRouter(sv.client, "rolly");
  router.start();
  await waitFor(() => router.endpoints.length === 2, { what: "both v1 endpoints" });
  const load = router.load(4);
  await waitFor(() => load.stats.ok > 50, { what: "traffic to v1" });
  const messages = await sv.deploy({
    app: "rolly",
    version: "v3",
    fixture: "crashy",
    vars: { RELEASE_LABEL: "v3" },
  });
  const last = messages.at(-1);
  assert.ok(last?.done);
  assert.deepEqual([last.newInstances, last.oldInstances], [2, 2]);
  await waitFor(() => router.endpoints.length === 2 && router.endpoints.every((e) => e.version === "v3"), {
    what: "the edge's table to hold only v3",
  });
  const served = load.stats.ok;
  await waitFor(() => load.stats.ok > served + 50, { what: "traffic to v3" });
  await load.stop();
  await router.stop();

  assert.deepEqual(
    load.stats.failures,
    [],
    `${load.stats.failures.length} of ${load.stats.ok} requests failed`,
  );
  assert.deepEqual([...load.stats.releases].sort(), ["v1", "v3"]);
  assert.equal(await current(), "releases/v3");
  const after = await instances();
  assert.deepEqual(
    after.map((i) => [i.state, i.version]),
    [
      [InstanceState.HEALTHY, "v3"],
      [InstanceState.HEALTHY, "v3"],
    ],
  );
  const details = messages.map((m) => m.detail);
  assert.ok(details.includes("instance 1/2 of v3 is healthy"), details.join("\n"));
  assert.ok(
    details.indexOf("instance 1/2 of v3 is healthy") <
      details.findIndex((d) => d.startsWith("stopped old instance")),
    "a new instance is healthy before an old one stops",
  );
});

test("a second rollout while one runs is refused at once", async () => {
  const slow = sv.deploy({ app: "rolly", version: "v4", fixture: "crashy", vars: { RELEASE_LABEL: "v4" } });
  await waitFor(async () => (await instances()).some((i) => i.version === "v4"), {
    what: "the v4 rollout to start",
  });
  await assert.rejects(sv.deploy({ app: "rolly", version: "v5", fixture: "crashy" }), (err: unknown) =>
    TakoError.is(err, "ROLLOUT_IN_PROGRESS"),
  );
  assert.ok((await slow).at(-1)?.done);
});
