// The supervisor's own reload keeps every app serving: the new generation adopts the running
// instances (same processes, same ports), so requests routed from WatchEndpoints never fail.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { InstanceState } from "@tako/proto";
import { isAlive, processesMentioning, sleep, waitFor } from "@tako/testkit";
import { httpGet } from "./helpers/http.js";
import { TestRouter } from "./helpers/router.js";
import { collect, connect, type SupervisorHost, startSupervisorHost } from "./helpers/supervisor.js";

let sv: SupervisorHost;
before(async () => {
  sv = await startSupervisorHost();
});
after(() => sv?.stop());

async function healthyPids(client = sv.client): Promise<number[]> {
  const { apps } = await client.status({ app: "reloady", env: "production" });
  return (apps[0]?.instances ?? [])
    .filter((i) => i.state === InstanceState.HEALTHY)
    .map((i) => i.pid)
    .sort();
}

async function reloadSupervisor(): Promise<number> {
  const before = await sv.host.pidOf("supervisor");
  process.kill(before, "SIGHUP");
  return waitFor(
    async () => {
      const pid = await sv.host.pidOf("supervisor").catch(() => before);
      return pid !== before ? pid : undefined;
    },
    { what: "a new supervisor generation", timeoutMs: 30_000 },
  );
}

test("three reloads under load fail no request and keep the same app processes", async () => {
  const messages = await sv.deploy({
    app: "reloady",
    version: "v1",
    fixture: "crashy",
    vars: { RELEASE_LABEL: "v1" },
  });
  assert.ok(messages.at(-1)?.done);
  await sv.client.scale({ app: "reloady", env: "production", instances: 2 });
  const instancePids = await healthyPids();
  assert.equal(instancePids.length, 2);

  const router = new TestRouter(sv.client, "reloady");
  router.start();
  await waitFor(() => router.endpoints.length === 2, { what: "two endpoints from WatchEndpoints" });
  // Every request makes the app print one numbered line: none may be lost across the handovers.
  const load = router.load(4, (n) => `/log?line=request-${n}`);
  const supervisorPids = [await sv.host.pidOf("supervisor")];
  for (let i = 0; i < 3; i++) {
    await sleep(300);
    supervisorPids.push(await reloadSupervisor());
    // Ownership moved: the new generation answers Status with the adopted instances.
    assert.deepEqual(await healthyPids(), instancePids);
  }
  await waitFor(() => load.stats.ok > 500, { what: "500 requests", timeoutMs: 60_000 });
  await sleep(300);
  await load.stop();

  assert.deepEqual(
    load.stats.failures,
    [],
    `${load.stats.failures.length} of ${load.stats.ok} requests failed`,
  );
  assert.equal(new Set(supervisorPids).size, 4, `supervisor PIDs: ${supervisorPids.join(" → ")}`);
  assert.deepEqual([...load.stats.pids].sort(), instancePids, "only the original instances answered");
  for (const pid of supervisorPids.slice(0, -1)) {
    await waitFor(() => !isAlive(pid), { what: `old supervisor ${pid} to exit`, timeoutMs: 30_000 });
  }
  assert.ok(router.snapshots >= 2, "the watch reconnected to the successors and started with a snapshot");
  const logged = await waitFor(
    async () => {
      const lines = (await collect(sv.client.logs({ app: "reloady", env: "production" })))
        .flatMap((b) => b.entries)
        .filter((e) => e.text.startsWith("request-"));
      return lines.length >= load.stats.ok ? lines : undefined;
    },
    { what: "every request's line in the log", timeoutMs: 15_000 },
  );
  assert.equal(new Set(logged.map((e) => e.text)).size, logged.length, "no line twice");
  assert.equal(logged.length, load.stats.ok, "no line lost");
  await router.stop();
});

test("after the reloads, adopted instances are still watched: output is logged and a crash is replaced", async () => {
  const { client, channel } = connect(sv.host.socket("supervisor"));
  try {
    const { apps } = await client.status({ app: "reloady", env: "production" });
    const instances = apps[0]?.instances ?? [];
    assert.equal(instances.length, 2);
    const [first, second] = instances;
    assert.ok(first && second);
    const marker = `after-reload-${randomBytes(4).toString("hex")}`;
    await httpGet(first.port, `/log?line=${marker}`, { host: "reloady.example.com" });
    await waitFor(
      async () => {
        const batches = await collect(client.logs({ app: "reloady", env: "production", tailLines: 200 }));
        return batches.flatMap((b) => b.entries).some((e) => e.text === marker);
      },
      { what: "the line printed after the reloads in the app's log" },
    );

    await httpGet(second.port, "/crash", { host: "reloady.example.com" }).catch(() => undefined);
    const replaced = await waitFor(
      async () => {
        const pids = await healthyPids(client);
        return pids.length === 2 && !pids.includes(second.pid) ? pids : undefined;
      },
      { what: "the crashed instance to be replaced", timeoutMs: 30_000 },
    );
    assert.ok(replaced.includes(first.pid), "the other instance kept running");
    const instanceProcs = await processesMentioning(sv.host.paths.appDir("reloady", "production"));
    assert.equal(instanceProcs.length, 2, instanceProcs.map((p) => p.argv.join(" ")).join("\n"));
  } finally {
    channel.close();
  }
});

test("a supervisor killed with SIGKILL is restarted, and the new one adopts the running instances", async () => {
  const before = await healthyPids();
  assert.equal(before.length, 2);
  const dead = await sv.host.pidOf("supervisor");
  process.kill(dead, "SIGKILL");
  const { client, channel } = connect(sv.host.socket("supervisor"));
  try {
    await waitFor(
      async () => {
        const pid = await sv.host.pidOf("supervisor").catch(() => dead);
        return pid !== dead;
      },
      { what: "the launcher to restart the supervisor", timeoutMs: 30_000 },
    );
    assert.deepEqual(await healthyPids(client), before, "the same processes serve, adopted");
    for (const pid of before) assert.ok(isAlive(pid));
    const { apps } = await client.status({ app: "reloady", env: "production" });
    const marker = `after-crash-${randomBytes(4).toString("hex")}`;
    await httpGet(apps[0]?.instances[0]?.port ?? 0, `/log?line=${marker}`, { host: "reloady.example.com" });
    await waitFor(
      async () =>
        (await collect(client.logs({ app: "reloady", env: "production", tailLines: 50 })))
          .flatMap((b) => b.entries)
          .some((e) => e.text === marker),
      { what: "output written after the crash to reach the log" },
    );
  } finally {
    channel.close();
  }
});
