// Failed starts say why, with the app's startup output; bad releases are refused before anything
// runs; a wake that times out carries the output too. Nothing is left running after a failure.
import assert from "node:assert/strict";
import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { TakoError } from "@tako/errors";
import { AppState } from "@tako/proto";
import { processesMentioning, waitFor } from "@tako/testkit";
import { collect, releaseSpec, type SupervisorHost, startSupervisorHost } from "./helpers/supervisor.js";

let sv: SupervisorHost;
before(async () => {
  sv = await startSupervisorHost();
});
after(() => sv?.stop());

/** Instances of one app still running. */
async function appProcesses(app: string): Promise<string[]> {
  return (await processesMentioning(sv.host.paths.appDir(app, "production"))).map((p) => p.argv.join(" "));
}

async function rejection(promise: Promise<unknown>): Promise<TakoError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(TakoError.is(err), String(err));
    return err;
  }
  assert.fail("expected a failure");
}

test("an app that exits while starting fails the rollout with its exit status and output", async () => {
  const err = await rejection(sv.deploy({ app: "boom", version: "v1", fixture: "crash-on-start" }));
  assert.equal(err.reason, "ROLLOUT_FAILED");
  assert.match(err.message, /the app exited during startup \(exit code 3\)/);
  assert.match(err.message, /fatal: DATABASE_URL is not set/);
  assert.match(err.message, /\[stdout\] booting the crash-on-start fixture/);
  const { apps } = await sv.client.status({ app: "boom", env: "production" });
  assert.equal(apps[0]?.state, AppState.ERROR);
  assert.deepEqual(apps[0]?.instances, []);
  assert.match(apps[0]?.lastError ?? "", /DATABASE_URL/);
  assert.deepEqual(await appProcesses("boom"), []);
});

test("an app that never reports readiness is killed at its startup timeout", async () => {
  const err = await rejection(
    sv.deploy({ app: "hangs", version: "v1", fixture: "never-ready", startupTimeoutMs: 1500 }),
  );
  assert.equal(err.reason, "ROLLOUT_FAILED");
  assert.match(err.message, /did not report readiness on fd 4 within 1500 ms/);
  assert.match(err.message, /connecting to a database that never answers/);
  assert.deepEqual(await appProcesses("hangs"), []);
});

test("a wake that times out fails with the startup output attached", async () => {
  const deployed = await sv.deploy({
    app: "sleepy",
    version: "v1",
    fixture: "crashy",
    idleTimeoutMs: 1000,
    startupTimeoutMs: 2000,
  });
  assert.ok(deployed.at(-1)?.done);
  await sv.client.scale({ app: "sleepy", env: "production", instances: 0 });
  await waitFor(
    async () =>
      (await sv.client.status({ app: "sleepy", env: "production" })).apps[0]?.state === AppState.IDLE,
    { what: "sleepy to go idle", timeoutMs: 20_000 },
  );
  const hangFile = join(sv.host.paths.appDir("sleepy", "production"), "data/app/hang-on-start");
  await writeFile(hangFile, "");
  const err = await rejection(sv.client.wake({ app: "sleepy", env: "production" }));
  assert.equal(err.reason, "APP_START_TIMEOUT");
  assert.match(err.message, /did not report readiness on fd 4 within 2000 ms/);
  assert.match(err.metadata.output ?? "", /hanging on start, as hang-on-start asks/);
  assert.deepEqual(await appProcesses("sleepy"), []);

  await rm(hangFile);
  const woken = await sv.client.wake({ app: "sleepy", env: "production" });
  assert.equal(woken.coldStart, true);
});

test("bad releases are refused before anything runs, and change nothing", async () => {
  const good = await releaseSpec(sv.host.paths, { app: "strict", version: "v1", fixture: "crashy" });
  const cases: [string, Partial<typeof good>, string, RegExp][] = [
    ["an invalid app name", { app: "Bad_Name" }, "INVALID_ARGUMENT", /app name "Bad_Name" is invalid/],
    ["an invalid version", { version: "../v1" }, "INVALID_ARGUMENT", /release version "\.\.\/v1" is invalid/],
    [
      "a release outside releases/",
      { releaseDir: "/etc" },
      "RELEASE_INVALID",
      /inside the app's releases\/ directory/,
    ],
    [
      "an entry outside the release",
      { main: "../../../../etc/passwd" },
      "RELEASE_INVALID",
      /must be a path inside the release/,
    ],
    ["a missing entry", { main: "nope.mjs" }, "RELEASE_INVALID", /nope\.mjs does not exist in release v1/],
    [
      "a bad variable name",
      { vars: { "BAD-NAME": "x" } },
      "INVALID_ARGUMENT",
      /vars name "BAD-NAME" is invalid/,
    ],
    [
      "a variable Tako sets",
      { vars: { PORT: "80" } },
      "INVALID_ARGUMENT",
      /PORT is set by Tako and cannot be a var/,
    ],
  ];
  for (const [what, change, reason, message] of cases) {
    const err = await rejection(collect(sv.client.apply({ release: { ...good, ...change } })));
    assert.equal(err.reason, reason, what);
    assert.match(err.message, message, what);
  }
  // A symlinked release directory that points elsewhere is not a release.
  const outside = join(sv.host.paths.appDir("strict", "production"), "releases/escape");
  await symlink("/tmp", outside);
  const err = await rejection(collect(sv.client.apply({ release: { ...good, releaseDir: outside } })));
  assert.match(err.message, /resolves outside the app's releases\/ directory/);
  assert.deepEqual((await sv.client.status({ app: "strict", env: "production" })).apps, []);
  assert.deepEqual(await appProcesses("strict"), []);
});

test("a TypeScript entry that does not compile is refused with the compiler's message", async () => {
  const spec = await releaseSpec(sv.host.paths, { app: "typo", version: "v1", fixture: "ts-fetch" });
  await mkdir(join(spec.releaseDir, "src"), { recursive: true });
  await writeFile(
    join(spec.releaseDir, "src/index.ts"),
    "export default {\n  fetch(req: Request) {\n    return new Response(\n};\n",
  );
  const err = await rejection(collect(sv.client.apply({ release: spec })));
  assert.equal(err.reason, "RELEASE_INVALID");
  assert.match(err.message, /cannot compile src\/index\.ts:\n.*src\/index\.ts:4: /);
  assert.deepEqual(await appProcesses("typo"), []);
});
