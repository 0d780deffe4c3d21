// Health: a crashing instance, and one that stops answering its probe, are replaced; watchers
// of instance events see the exit with its status; a replacement that keeps failing is retried
// with backoff until it starts.
import assert from "node:assert/strict";
import { rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { AppState, InstanceEventType, InstanceState, type WatchInstanceEventsResponse } from "@tako/proto";
import { isAlive, waitFor } from "@tako/testkit";
import { httpGet } from "./helpers/http.js";
import { collect, type SupervisorHost, startSupervisorHost } from "./helpers/supervisor.js";

let sv: SupervisorHost;
before(async () => {
  sv = await startSupervisorHost();
  const messages = await sv.deploy({ app: "crashy", version: "v1", fixture: "crashy" });
  assert.ok(messages.at(-1)?.done);
});
after(() => sv?.stop());

async function healthyInstance() {
  return waitFor(
    async () => {
      const { apps } = await sv.client.status({ app: "crashy", env: "production" });
      const healthy = apps[0]?.instances.filter((i) => i.state === InstanceState.HEALTHY) ?? [];
      return healthy.length === 1 ? healthy[0] : undefined;
    },
    { what: "one healthy instance", timeoutMs: 30_000 },
  );
}

test("an instance that exits is replaced, and the exit is reported with its status", async () => {
  const first = await healthyInstance();
  const watch = new AbortController();
  const events: WatchInstanceEventsResponse[] = [];
  const watching = (async () => {
    try {
      for await (const e of sv.client.watchInstanceEvents(
        { app: "crashy" },
        { signal: watch.signal, timeoutMs: 0 },
      )) {
        events.push(e);
      }
    } catch {
      // aborted
    }
  })();
  await waitFor(() => events.length > 0, { what: "the watch's snapshot" });
  assert.deepEqual(
    [events[0]?.instanceId, events[0]?.type],
    [first.id, InstanceEventType.HEALTHY],
    "the watch starts with the current instances",
  );

  await httpGet(first.port, "/crash", { host: "crashy.example.com" }).catch(() => undefined);
  const second = await waitFor(
    async () => {
      const i = await healthyInstance();
      return i.id !== first.id ? i : undefined;
    },
    { what: "a replacement", timeoutMs: 30_000 },
  );
  assert.notEqual(second.pid, first.pid);
  assert.equal((await httpGet(second.port, "/", { host: "crashy.example.com" })).status, 200);
  await waitFor(() => events.some((e) => e.instanceId === second.id && e.type === InstanceEventType.HEALTHY));
  watch.abort();
  await watching;

  const exited = events.find((e) => e.instanceId === first.id && e.type === InstanceEventType.EXITED);
  assert.ok(exited, String(events.map((e) => `${e.instanceId}:${e.type}`)));
  assert.equal(exited.exitCode, 2);
  assert.equal(exited.pid, first.pid);
  assert.ok(exited.aliveMs > 0n);
  const { apps } = await sv.client.status({ app: "crashy", env: "production" });
  assert.match(apps[0]?.lastError ?? "", /exited unexpectedly \(exit code 2\)/);
  const lines = (await collect(sv.client.logs({ app: "crashy", env: "production" }))).flatMap(
    (b) => b.entries,
  );
  assert.ok(lines.some((l) => l.instanceId === first.id && l.text === "crashing on request"));
  assert.ok(lines.some((l) => l.text.includes(`instance ${first.id} exited unexpectedly (exit code 2)`)));
});

test("an instance that stops answering its probe is killed and replaced", async () => {
  const hung = await healthyInstance();
  process.kill(hung.pid, "SIGSTOP");
  try {
    const replacement = await waitFor(
      async () => {
        const i = await healthyInstance();
        return i.id !== hung.id ? i : undefined;
      },
      { what: "the hung instance to be replaced", timeoutMs: 40_000 },
    );
    assert.notEqual(replacement.pid, hung.pid);
    await waitFor(() => !isAlive(hung.pid), { what: "the hung process to be killed" });
    const { apps } = await sv.client.status({ app: "crashy", env: "production" });
    assert.match(apps[0]?.lastError ?? "", /failed a health probe: GET \/status took longer than \d+ ms/);
  } finally {
    if (isAlive(hung.pid)) process.kill(hung.pid, "SIGKILL");
  }
});

test("an instance that keeps failing to start is retried with backoff, and recovers", async () => {
  const first = await healthyInstance();
  const crashFile = join(sv.host.paths.appDir("crashy", "production"), "data/app/crash-on-start");
  await writeFile(crashFile, "");
  await httpGet(first.port, "/crash", { host: "crashy.example.com" }).catch(() => undefined);
  const notes = async () =>
    (await collect(sv.client.logs({ app: "crashy", env: "production", tailLines: 200 })))
      .flatMap((b) => b.entries)
      .map((e) => e.text);
  await waitFor(async () => (await notes()).includes("next start attempt in 2000 ms"), {
    what: "a second, longer backoff",
    timeoutMs: 30_000,
  });
  const { apps } = await sv.client.status({ app: "crashy", env: "production" });
  assert.equal(apps[0]?.state, AppState.ERROR);
  assert.match(apps[0]?.lastError ?? "", /exiting at start, as crash-on-start asks/);
  assert.ok((await notes()).includes("next start attempt in 1000 ms"));
  await rm(crashFile);
  const recovered = await healthyInstance();
  assert.notEqual(recovered.id, first.id);
  assert.equal(
    (await sv.client.status({ app: "crashy", env: "production" })).apps[0]?.state,
    AppState.RUNNING,
  );
});
