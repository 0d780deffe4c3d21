// The SDK's server entrypoint as a real process, driven exactly as the supervisor drives it.
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { call, FIXTURES, type Started, startEntrypoint, TOKEN } from "./helpers.js";

describe("a fetch-handler app", () => {
  let app: Started;
  let port = 0;
  before(async () => {
    app = await startEntrypoint("fetch-app.mjs");
    assert.ok(app.port, app.output());
    port = app.port;
  });
  after(async () => {
    app.child.kill("SIGKILL");
    await app.exited;
  });

  test("reports its port on fd 4 only after ready() resolved", async () => {
    assert.ok(app.readyMs >= 200, `ready after ${app.readyMs} ms`);
    const info = JSON.parse((await call(port, "/info", { headers: { host: "app.example.com" } })).body);
    assert.equal(info.readyCalls, 1);
  });

  test("sees its secrets, instance and build from fd 3, and its bound port", async () => {
    const info = JSON.parse((await call(port, "/info", { headers: { host: "app.example.com" } })).body);
    assert.deepEqual(info.secrets, { NAME: "Ada" });
    assert.equal(info.instanceId, "inst0001");
    assert.equal(info.build, "v9");
    assert.equal(info.port, port);
    assert.equal(info.url, "http://app.example.com/info");
  });

  test("passes request bodies, methods and headers through, and multiple set-cookie headers back", async () => {
    const echo = await call(port, "/echo", {
      method: "POST",
      headers: { host: "app.example.com", "content-type": "application/json" },
      body: '{"hello":"world"}',
    });
    assert.equal(echo.status, 201);
    assert.equal(echo.body, '{"hello":"world"}');
    assert.equal(echo.headers["x-method"], "POST");
    assert.equal(echo.headers["content-type"], "application/json");
    const cookies = await call(port, "/cookies", { headers: { host: "app.example.com" } });
    assert.deepEqual(cookies.headers["set-cookie"], ["a=1; Path=/", "b=2; Path=/"]);
  });

  test("streams response bodies", async () => {
    const res = await call(port, "/stream", { headers: { host: "app.example.com" } });
    assert.equal(res.body, "chunk0\nchunk1\nchunk2\n");
  });

  test("turns a handler that throws into a 500 and keeps serving", async () => {
    const res = await call(port, "/throw", { headers: { host: "app.example.com" } });
    assert.equal(res.status, 500);
    assert.deepEqual(JSON.parse(res.body), { error: "Internal Server Error" });
    for (let i = 0; i < 100 && !app.output().includes("handler exploded"); i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.match(app.output(), /handler exploded/);
    assert.equal((await call(port, "/info", { headers: { host: "app.example.com" } })).status, 200);
  });

  test("answers the probe with the right token only, echoing it; the app never sees the token", async () => {
    const ok = await call(port, "/status", {
      headers: { host: "tako.internal", "x-tako-internal-token": TOKEN },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers["x-tako-internal-token"], TOKEN);
    const status = JSON.parse(ok.body);
    assert.equal(status.status, "healthy");
    assert.equal(status.instance_id, "inst0001");
    assert.equal(typeof status.requests_total, "number");
    assert.equal(status.inflight, 0);
    for (const headers of [
      { host: "tako.internal" },
      { host: "tako.internal", "x-tako-internal-token": `${TOKEN.slice(0, -1)}X` },
      { host: "TAKO.INTERNAL:8080", "x-tako-internal-token": "short" },
    ]) {
      const res = await call(port, "/status", { headers });
      assert.equal(res.status, 403);
      assert.equal(res.headers["x-tako-internal-token"], undefined);
    }
    const other = await call(port, "/info", {
      headers: { host: "tako.internal", "x-tako-internal-token": TOKEN },
    });
    assert.equal(other.status, 404, "only /status exists on the internal host");
    const publicCall = await call(port, "/info", {
      headers: { host: "app.example.com", "x-tako-internal-token": TOKEN },
    });
    assert.equal(JSON.parse(publicCall.body).token, null, "the token header is stripped before the app");
  });

  test("counts app requests (not probes) for idle detection", async () => {
    const probe = () =>
      call(port, "/status", { headers: { host: "tako.internal", "x-tako-internal-token": TOKEN } });
    const before = JSON.parse((await probe()).body).requests_total;
    await probe();
    assert.equal(JSON.parse((await probe()).body).requests_total, before);
    await call(port, "/info", { headers: { host: "app.example.com" } });
    const after = JSON.parse((await probe()).body);
    assert.equal(after.requests_total, before + 1);
    assert.ok(after.idle_ms < 1000);
  });
});

test("SIGTERM lets the request in flight finish, refuses new connections, then exits 0", async () => {
  const app = await startEntrypoint("fetch-app.mjs");
  assert.ok(app.port);
  const slow = call(app.port, "/slow?ms=600", { headers: { host: "app.example.com" } });
  await new Promise((r) => setTimeout(r, 100));
  app.child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 100));
  await assert.rejects(call(app.port, "/info", { headers: { host: "app.example.com" } }), /ECONNREFUSED/);
  assert.equal((await slow).body, "slow done");
  assert.equal(await app.exited, 0);
});

test("a CommonJS Node request listener runs, and require('tako.sh') shares the secrets", async () => {
  const app = await startEntrypoint("node-listener.cjs");
  try {
    assert.ok(app.port, app.output());
    const res = await call(app.port, "/x?y=1", { headers: { host: "app.example.com" } });
    assert.deepEqual(JSON.parse(res.body), { url: "/x?y=1", secret: "Ada" });
  } finally {
    app.child.kill("SIGKILL");
    await app.exited;
  }
});

test("an entry module with an unusable export fails before readiness, saying what it needs", async () => {
  const app = await startEntrypoint("bad-export.mjs");
  assert.equal(app.port, undefined);
  assert.equal(await app.exited, 1);
  assert.match(app.output(), /must default-export a fetch handler/);
});

test("a malformed envelope, or none at all, stops the process with a clear message", async () => {
  const bad = await startEntrypoint("fetch-app.mjs", '{"token": 5}');
  assert.equal(bad.port, undefined);
  assert.equal(await bad.exited, 1);
  assert.match(bad.output(), /tako\.sh: "token" must be 16-128 characters/);
  const none = await startEntrypoint("fetch-app.mjs", null);
  assert.equal(await none.exited, 1);
  assert.match(none.output(), /fd 3 is not open: this entrypoint must be started by the Tako supervisor/);
});

test("an app whose node_modules/tako.sh links to the SDK (a release) shares the entrypoint's secrets", async () => {
  // The supervisor's layout: the entrypoint is the SDK's real path, the app reaches the SDK through
  // a symlink. Both must load one module instance (nodejs/node#51142 once broke that).
  const dir = await mkdtemp("/tmp/tk-sdk-");
  try {
    await mkdir(join(dir, "node_modules"));
    await symlink(fileURLToPath(new URL("../../", import.meta.url)), join(dir, "node_modules/tako.sh"));
    await copyFile(join(FIXTURES, "fetch-app.mjs"), join(dir, "app.mjs"));
    const app = await startEntrypoint(join(dir, "app.mjs"));
    try {
      assert.ok(app.port, app.output());
      const res = await call(app.port, "/info", { headers: { host: "app.example.com" } });
      assert.deepEqual(JSON.parse(res.body).secrets, { NAME: "Ada" });
    } finally {
      app.child.kill("SIGKILL");
      await app.exited;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
