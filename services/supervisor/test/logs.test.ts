// App logs: stdout/stderr of every instance and Tako's own lines, per app/env, in the
// documented line format; history with tail/since, and follow.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { TakoError } from "@tako/errors";
import { LogStream, type SupervisorServiceLogsResponse } from "@tako/proto";
import { waitFor } from "@tako/testkit";
import { httpGet } from "./helpers/http.js";
import { collect, type SupervisorHost, startSupervisorHost } from "./helpers/supervisor.js";

let sv: SupervisorHost;
let port = 0;
let instanceId = "";
before(async () => {
  sv = await startSupervisorHost();
  assert.ok((await sv.deploy({ app: "loggy", version: "v1", fixture: "crashy" })).at(-1)?.done);
  const { apps } = await sv.client.status({ app: "loggy", env: "production" });
  port = apps[0]?.instances[0]?.port ?? 0;
  instanceId = apps[0]?.instances[0]?.id ?? "";
});
after(() => sv?.stop());

const say = (line: string) =>
  httpGet(port, `/log?line=${encodeURIComponent(line)}`, { host: "loggy.example.com" });

async function history(req: { tailLines?: number; sinceUnixMs?: bigint } = {}) {
  const batches = await collect(sv.client.logs({ app: "loggy", env: "production", ...req }));
  return batches.flatMap((b) => b.entries);
}

test("history holds the app's output and Tako's lines about it, in order", async () => {
  await say("first line");
  await say("second line");
  const entries = await waitFor(async () => {
    const all = await history();
    return all.some((e) => e.text === "second line") ? all : undefined;
  });
  const texts = entries.map((e) => e.text);
  assert.ok(texts.includes("rolling out release v1"));
  assert.ok(texts.includes(`instance ${instanceId} is healthy`));
  const first = entries.find((e) => e.text === "first line");
  assert.ok(first);
  assert.equal(first.stream, LogStream.STDOUT);
  assert.equal(first.instanceId, instanceId);
  assert.ok(texts.indexOf("first line") < texts.indexOf("second line"));
  const rolling = entries.find((e) => e.text === "rolling out release v1");
  assert.equal(rolling?.stream, LogStream.TAKO);
  assert.equal(rolling?.instanceId, "");

  const file = await readFile(
    join(sv.host.paths.appDir("loggy", "production"), "data/tako/logs/current.log"),
    "utf8",
  );
  assert.match(
    file,
    new RegExp(
      `^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z \\[out\\] \\[${instanceId}\\] first line$`,
      "m",
    ),
  );
  assert.match(file, /^\S+Z \[server\] \[-\] rolling out release v1$/m);
});

test("tail and since select what history returns", async () => {
  const tail = await history({ tailLines: 1 });
  assert.equal(tail.length, 1);
  assert.equal(tail[0]?.text, "second line");
  const cut = BigInt(Date.now() + 5);
  await new Promise((r) => setTimeout(r, 20));
  await say("third line");
  const since = await waitFor(async () => {
    const s = await history({ sinceUnixMs: cut });
    return s.length > 0 ? s : undefined;
  });
  assert.deepEqual(
    since.map((e) => e.text),
    ["third line"],
  );
});

test("follow streams new lines after the history, each once", async () => {
  const abort = new AbortController();
  const received: SupervisorServiceLogsResponse[] = [];
  let historyDone = false;
  const following = (async () => {
    try {
      for await (const msg of sv.client.logs(
        { app: "loggy", env: "production", follow: true, tailLines: 2 },
        { signal: abort.signal, timeoutMs: 0 },
      )) {
        if (msg.entries.length === 0) historyDone = true;
        received.push(msg);
      }
    } catch {
      // aborted
    }
  })();
  await waitFor(() => historyDone, { what: "the end of history" });
  await say("live one");
  await say("live two");
  await waitFor(() => received.flatMap((m) => m.entries).some((e) => e.text === "live two"), {
    what: "live lines",
  });
  abort.abort();
  await following;
  const texts = received.flatMap((m) => m.entries).map((e) => e.text);
  assert.deepEqual(texts, ["second line", "third line", "live one", "live two"]);
});

test("long lines are split at 64 KiB and stderr is labelled", async () => {
  await httpGet(port, `/log?line=x&repeat=${70 * 1024}`, { host: "loggy.example.com" });
  const entries = await waitFor(async () => {
    const all = await history({ tailLines: 3 });
    return all.some((e) => e.text.length === 70 * 1024 - 64 * 1024) ? all : undefined;
  });
  assert.deepEqual(
    entries.slice(-2).map((e) => e.text.length),
    [64 * 1024, 70 * 1024 - 64 * 1024],
  );
  await httpGet(port, "/crash", { host: "loggy.example.com" }).catch(() => undefined);
  const crash = await waitFor(async () => (await history()).find((e) => e.text === "crashing on request"));
  assert.equal(crash.stream, LogStream.STDERR);
});

test("logs of an unknown app are refused with APP_NOT_FOUND", async () => {
  await assert.rejects(collect(sv.client.logs({ app: "nobody", env: "production" })), (err: unknown) =>
    TakoError.is(err, "APP_NOT_FOUND"),
  );
});
