// Scale: the desired count is stored and converged to; at 0 the app stops once idle and the
// next Wake starts it again; limits and unknown apps are refused without changing anything.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { TakoError } from "@tako/errors";
import { AppState, InstanceState } from "@tako/proto";
import { isAlive, waitFor } from "@tako/testkit";
import { httpGet } from "./helpers/http.js";
import { type SupervisorHost, startSupervisorHost } from "./helpers/supervisor.js";

let sv: SupervisorHost;
before(async () => {
  sv = await startSupervisorHost();
});
after(() => sv?.stop());

async function status() {
  const { apps } = await sv.client.status({ app: "scaly", env: "production" });
  const app = apps[0];
  assert.ok(app);
  return app;
}

async function healthy(): Promise<{ pid: number; port: number }[]> {
  return (await status()).instances.filter((i) => i.state === InstanceState.HEALTHY);
}

test("scale 3 → 1 → 0 → wake", async () => {
  const messages = await sv.deploy({ app: "scaly", version: "v1", fixture: "crashy", idleTimeoutMs: 1500 });
  assert.ok(messages.at(-1)?.done);
  assert.equal((await status()).desiredInstances, 1, "a new app starts with one instance");

  await sv.client.scale({ app: "scaly", env: "production", instances: 3 });
  const three = await healthy();
  assert.equal(three.length, 3);
  assert.equal(new Set(three.map((i) => i.pid)).size, 3);
  for (const i of three)
    assert.equal((await httpGet(i.port, "/", { host: "scaly.example.com" })).status, 200);

  await sv.client.scale({ app: "scaly", env: "production", instances: 1 });
  const one = await healthy();
  assert.equal(one.length, 1);
  const stopped = three.filter((i) => i.pid !== one[0]?.pid);
  assert.equal(stopped.length, 2);
  await waitFor(() => stopped.every((i) => !isAlive(i.pid)), { what: "the two drained instances to exit" });

  await sv.client.scale({ app: "scaly", env: "production", instances: 0 });
  assert.equal((await status()).desiredInstances, 0);
  const idle = await waitFor(
    async () => {
      const s = await status();
      return s.state === AppState.IDLE && s.instances.length === 0 ? s : undefined;
    },
    { what: "the last instance to stop after its idle timeout", timeoutMs: 20_000 },
  );
  assert.equal(idle.desiredInstances, 0);
  assert.ok(!isAlive(one[0]?.pid ?? 0));

  const woken = await sv.client.wake({ app: "scaly", env: "production" });
  assert.equal(woken.coldStart, true);
  assert.ok(woken.endpoint);
  const res = await httpGet(woken.endpoint.port, "/", { host: "scaly.example.com" });
  assert.equal(res.status, 200);
  assert.equal((await status()).state, AppState.RUNNING);
  const again = await sv.client.wake({ app: "scaly", env: "production" });
  assert.equal(again.coldStart, false);
  assert.equal(again.endpoint?.instanceId, woken.endpoint.instanceId);
});

test("a count above the host's limit is refused and nothing changes", async () => {
  const before = await status();
  await assert.rejects(
    sv.client.scale({ app: "scaly", env: "production", instances: 10_000 }),
    (err: unknown) => {
      assert.ok(TakoError.is(err, "SCALE_LIMIT"), String(err));
      assert.match(err.message, /^Requested 10000 instances, but this server allows at most \d+\.$/);
      assert.equal(err.hint, "Use fewer instances or spread traffic across more servers.");
      return true;
    },
  );
  const after = await status();
  assert.equal(after.desiredInstances, before.desiredInstances);
  assert.equal(after.instances.length, before.instances.length);
});

test("scaling or waking an app that was never deployed fails with APP_NOT_FOUND", async () => {
  await assert.rejects(sv.client.scale({ app: "ghost", env: "production", instances: 2 }), (err: unknown) =>
    TakoError.is(err, "APP_NOT_FOUND"),
  );
  await assert.rejects(sv.client.wake({ app: "ghost", env: "production" }), (err: unknown) =>
    TakoError.is(err, "APP_NOT_FOUND"),
  );
  const { apps } = await sv.client.status({ app: "ghost", env: "production" });
  assert.deepEqual(apps, []);
});

test("the desired count survives a deploy", async () => {
  await sv.client.scale({ app: "scaly", env: "production", instances: 2 });
  const messages = await sv.deploy({ app: "scaly", version: "v2", fixture: "crashy", idleTimeoutMs: 1500 });
  assert.equal(messages.at(-1)?.newInstances, 2);
  const s = await status();
  assert.equal(s.version, "v2");
  assert.equal(s.desiredInstances, 2);
  assert.deepEqual(
    s.instances.map((i) => [i.state, i.version]),
    [
      [InstanceState.HEALTHY, "v2"],
      [InstanceState.HEALTHY, "v2"],
    ],
  );
});

test("Stop ends every instance and forgets the app; purge also drops its stored count", async () => {
  const pids = (await healthy()).map((i) => i.pid);
  const res = await sv.client.stop({ app: "scaly", env: "production", purge: false });
  assert.deepEqual([res.stopped, res.existed], [2, true]);
  assert.ok(pids.every((pid) => !isAlive(pid)));
  assert.equal((await status()).state, AppState.STOPPED);
  await assert.rejects(sv.client.wake({ app: "scaly", env: "production" }), (err: unknown) =>
    TakoError.is(err, "APP_STOPPED"),
  );
  const purged = await sv.client.stop({ app: "scaly", env: "production", purge: true });
  assert.equal(purged.existed, true);
  assert.deepEqual((await sv.client.status({ app: "scaly", env: "production" })).apps, []);
  const again = await sv.client.stop({ app: "scaly", env: "production", purge: true });
  assert.deepEqual([again.stopped, again.existed], [0, false]);
});
