// The spawn contract end to end, with real processes: a TypeScript fetch-handler app and an
// Express app start under the supervisor, pass health, get their secrets on fd 3 only, run as
// their own unprivileged user, and keep the probe token away from app code.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { AppState, InstanceState } from "@tako/proto";
import { appUserName } from "../src/spawn/app-user.js";
import { compiledEntryPath } from "../src/spawn/entry-compiler.js";
import { internalSocketPath } from "../src/spawn/internal-socket.js";
import { httpGet } from "./helpers/http.js";
import { type SupervisorHost, startSupervisorHost } from "./helpers/supervisor.js";

const SECRETS = { GREETING_NAME: "Ada", API_TOKEN: "tk_live_3f9a8b7c6d5e4f3a2b1c" };

let sv: SupervisorHost;
before(async () => {
  // Per-app users are part of the contract: they exist only under a root supervisor.
  assert.equal(
    process.getuid?.(),
    0,
    "these tests must run as root (the supervisor switches to per-app users)",
  );
  sv = await startSupervisorHost();
});
after(() => sv?.stop());

async function onlyInstance(app: string) {
  const { apps } = await sv.client.status({ app, env: "production" });
  assert.equal(apps.length, 1);
  const status = apps[0];
  assert.ok(status);
  assert.equal(status.state, AppState.RUNNING, status.lastError);
  assert.equal(status.instances.length, 1);
  const instance = status.instances[0];
  assert.ok(instance);
  assert.equal(instance.state, InstanceState.HEALTHY);
  return instance;
}

async function environOf(pid: number): Promise<Record<string, string>> {
  const raw = await readFile(`/proc/${pid}/environ`, "utf8");
  return Object.fromEntries(
    raw
      .split("\0")
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
}

async function uidOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
}

async function passwdUid(user: string): Promise<number | undefined> {
  const line = (await readFile("/etc/passwd", "utf8")).split("\n").find((l) => l.startsWith(`${user}:`));
  return line ? Number(line.split(":")[2]) : undefined;
}

/** What every instance must show: the contract's environment, and no secret anywhere. */
async function assertCleanProcess(
  app: string,
  version: string,
  pid: number,
  extraVars: Record<string, string>,
) {
  const env = await environOf(pid);
  const appDir = sv.host.paths.appDir(app, "production");
  assert.deepEqual(env, {
    ...extraVars,
    PATH: env.PATH,
    ENV: "production",
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: "0",
    TAKO_APP_NAME: app,
    TAKO_INTERNAL_SOCKET: internalSocketPath(sv.host.paths, app, "production"),
    TAKO_DATA_DIR: join(appDir, "data/app"),
    TAKO_BUILD: version,
  });
  const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
  for (const secret of Object.values(SECRETS)) {
    assert.ok(!Object.values(env).some((v) => v?.includes(secret)), "no secret in the environment");
    assert.ok(!cmdline.includes(secret), "no secret in argv");
  }
  const uid = await uidOf(pid);
  assert.notEqual(uid, 0, "the app does not run as root");
  assert.equal(uid, await passwdUid(appUserName(app, "production")));
  assert.equal((await stat(join(appDir, "data/app"))).uid, uid, "TAKO_DATA_DIR belongs to the app's user");
}

describe("a TypeScript fetch-handler app", () => {
  let port = 0;
  let pid = 0;

  test("rolls out, passes health and answers from the secrets it read on fd 3", async () => {
    const messages = await sv.deploy({
      app: "tsfetch",
      version: "v1",
      fixture: "ts-fetch",
      vars: { GREETING_STYLE: "plain" },
      secrets: SECRETS,
    });
    const last = messages.at(-1);
    assert.ok(last?.done, JSON.stringify(messages.map((m) => m.detail)));
    assert.equal(last.newInstances, 1);
    const instance = await onlyInstance("tsfetch");
    ({ port, pid } = instance);
    const res = await httpGet(port, "/?tone=excited", { host: "tsfetch.example.com" });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(JSON.parse(res.body), {
      greeting: "Hello, Ada!",
      tokenDigest: createHash("sha256").update(SECRETS.API_TOKEN).digest("hex"),
      env: "production",
      app: "tsfetch",
      build: "v1",
      publicFile: "Hello from public/ (served by the edge later; read by the app through import.meta.url).",
    });
  });

  test("was compiled once, ahead of its start, into the release's .tako/", async () => {
    const releaseDir = join(sv.host.paths.appDir("tsfetch", "production"), "releases/v1");
    const compiled = await readFile(compiledEntryPath(releaseDir, "src/index.ts"), "utf8");
    assert.match(compiled, /readyAt/);
    assert.doesNotMatch(compiled, /interface Reply/, "types are gone");
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
    assert.equal(cmdline[2], compiledEntryPath(releaseDir, "src/index.ts"));
    // The SDK entrypoint runs as the one-file bundle the supervisor made at start.
    assert.match(cmdline[1] ?? "", new RegExp(`^${sv.host.paths.runDir}/sdk/sdk-server-[0-9a-f]{16}\\.mjs$`));
  });

  test("has a clean environment without secrets, as its own user", async () => {
    await assertCleanProcess("tsfetch", "v1", pid, { GREETING_STYLE: "plain" });
  });

  test("the probe token never reaches app code", async () => {
    const leaked = await httpGet(port, "/headers", {
      host: "tsfetch.example.com",
      "x-tako-internal-token": "guess",
    });
    assert.equal(JSON.parse(leaked.body)["x-tako-internal-token"], undefined);
    const publicStatus = await httpGet(port, "/status", {
      host: "tsfetch.example.com",
      "x-tako-internal-token": "guess",
    });
    assert.deepEqual(JSON.parse(publicStatus.body), { status: "ok (public)" });
    assert.equal(publicStatus.headers["x-tako-internal-token"], undefined);
  });
});

describe("an Express app", () => {
  let port = 0;
  let pid = 0;

  test("rolls out, passes health and answers from its secrets", async () => {
    const messages = await sv.deploy({
      app: "expressapp",
      version: "r1",
      fixture: "express",
      secrets: SECRETS,
    });
    assert.ok(messages.at(-1)?.done, JSON.stringify(messages.map((m) => m.detail)));
    ({ port, pid } = await onlyInstance("expressapp"));
    const res = await httpGet(port, "/", { host: "express.example.com" });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual(JSON.parse(res.body), { framework: "express", greeting: "Hello, Ada!" });
  });

  test("has a clean environment without secrets, as its own user", async () => {
    await assertCleanProcess("expressapp", "r1", pid, {});
  });

  test("its own /status cannot pass for the SDK's, even echoing the token header", async () => {
    const res = await httpGet(port, "/status", {
      host: "express.example.com",
      "x-tako-internal-token": "anything",
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers["x-tako-internal-token"], undefined, "the app never saw the header");
    const headers = await httpGet(port, "/headers", {
      host: "express.example.com",
      "x-tako-internal-token": "x",
    });
    assert.equal(JSON.parse(headers.body)["x-tako-internal-token"], undefined);
  });

  test("a wrong or missing token gets 403 from the SDK, with nothing echoed", async () => {
    for (const headers of [
      { host: "tako.internal" },
      { host: "tako.internal", "x-tako-internal-token": "wrong-token-1234567890" },
    ]) {
      const res = await httpGet(port, "/status", headers);
      assert.equal(res.status, 403);
      assert.equal(res.headers["x-tako-internal-token"], undefined);
      assert.deepEqual(JSON.parse(res.body), { error: "Forbidden" });
    }
  });
});

describe("new secrets for the same release", () => {
  test("Apply of the same version with new secrets restarts the instances with them", async () => {
    const { pid: before } = await onlyInstance("tsfetch");
    const messages = await sv.deploy({
      app: "tsfetch",
      version: "v1",
      fixture: "ts-fetch",
      vars: { GREETING_STYLE: "plain" },
      secrets: { ...SECRETS, GREETING_NAME: "Grace" },
    });
    assert.deepEqual([messages.at(-1)?.newInstances, messages.at(-1)?.oldInstances], [1, 1]);
    const after = await onlyInstance("tsfetch");
    assert.notEqual(after.pid, before);
    const res = await httpGet(after.port, "/", { host: "tsfetch.example.com" });
    assert.equal(JSON.parse(res.body).greeting, "Hello, Grace.");
  });

  test("each app's release and data are closed to other apps' users", async () => {
    for (const app of ["tsfetch", "expressapp"]) {
      const appDir = sv.host.paths.appDir(app, "production");
      const st = await stat(appDir);
      assert.equal(st.mode & 0o007, 0, `${appDir} is closed to others`);
      const user = appUserName(app, "production");
      const group = (await readFile("/etc/group", "utf8")).split("\n").find((l) => l.startsWith(`${user}:`));
      assert.equal(st.gid, Number(group?.split(":")[2]), `${appDir} belongs to the app's own group`);
    }
  });
});
