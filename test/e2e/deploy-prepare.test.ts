// The deploy path up to the rollout, through the real sshd in front of a real local host: the
// built artifact reaches agentd over the forwarded management socket and is extracted and
// installed there; a second deploy of the same app/env fails at once with the retry message;
// a hostile artifact is rejected with nothing written; secrets sync only when they differ.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile, readlink, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { secretsHash } from "@tako/appspec";
import { encodeRawArchive } from "@tako/artifact";
import { buildApp, loadAppConfig } from "@tako/cli";
import { TakoError } from "@tako/errors";
import { type DeployEnv, startDeployEnv, startServerDeploy } from "../helpers/deploy-env.js";

let env: DeployEnv;
let app: string;

before(async () => {
  env = await startDeployEnv("deploy");
  app = await env.writeApp("hello", { files: { "public/hello.txt": "static hello\n" } });
});
after(async () => {
  await env?.stop();
});

const connect = () => env.connect();
const startDeploy = (
  connection: Awaited<ReturnType<typeof connect>>,
  version: string,
  artifact: { path: string; sha256: string; sizeBytes: number },
) => startServerDeploy(connection, "hello", version, artifact);

const releasesDir = () => join(env.host.paths.appDir("hello", "production"), "releases");

test("the artifact reaches the host over SSH and is extracted and installed before the rollout", async () => {
  const built = await buildApp(await loadAppConfig(join(app, "tako.toml")), { env: "production" });
  const connection = await connect();
  try {
    const deploy = startDeploy(connection, built.version, { path: built.artifactPath, ...built });
    await deploy.prepared;
    assert.deepEqual(
      deploy.steps.filter((s) => s.finished).map((s) => s.name),
      ["upload", "extract", "install"],
    );
    const release = join(releasesDir(), built.version);
    assert.equal(
      await readFile(join(release, "server.js"), "utf8"),
      await readFile(join(app, "server.js"), "utf8"),
    );
    assert.equal(await readFile(join(release, "public/hello.txt"), "utf8"), "static hello\n");
    const manifest = JSON.parse(await readFile(join(release, "app.json"), "utf8"));
    assert.equal(manifest.version, built.version);
    assert.equal(manifest.main, "server.js");
    assert.ok(
      (await readlink(join(release, "node_modules/tako.sh"))).length > 0,
      "the host linked its own SDK",
    );
    deploy.abort(new TakoError("CANCELED", "test: stop at the barrier"));
    await assert.rejects(deploy.done, /stop at the barrier/);
  } finally {
    connection.close();
  }
});

test("a concurrent second deploy fails at once with the retry message, and the lock is released after", async () => {
  const built = await buildApp(await loadAppConfig(join(app, "tako.toml")), { env: "production" });
  const connection = await connect();
  try {
    const holder = startDeploy(connection, built.version, { path: built.artifactPath, ...built });
    await holder.prepared; // holds the production deploy lock at the barrier
    const second = await env.user.tako(["deploy", "--ci"], { cwd: app });
    assert.equal(second.code, 1, second.stderr);
    assert.match(
      second.stderr,
      /Error: local: a deploy of hello\/production is already in progress on this server \(started \d+ s ago\)\. Please wait for it to finish and try again\./,
    );
    assert.match(
      second.stderr,
      /→ Another deploy of this app and environment is running; wait for it and retry\./,
    );
    assert.doesNotMatch(second.stderr, /✓ (upload|extract|install)/, "it stopped before doing anything");

    holder.abort(new TakoError("CANCELED", "test: release the lock"));
    await assert.rejects(holder.done);
    const third = await env.user.tako(["deploy", "--ci", "--json"], { cwd: app });
    const out = JSON.parse(third.stdout);
    const failure = out.servers?.[0]?.error?.reason;
    assert.notEqual(failure, "DEPLOY_LOCKED", `the lock was released: ${third.stderr}`);
  } finally {
    connection.close();
  }
});

test("a hostile artifact (../ entry, absolute path, escaping symlink) is rejected with nothing written", async () => {
  const outside = join(env.work.root, "pwned");
  const cases = [
    { version: "evil-dotdot", entries: [{ header: { path: "../../../../pwned" }, body: "x" }] },
    { version: "evil-absolute", entries: [{ header: { path: outside }, body: "x" }] },
    {
      version: "evil-symlink",
      entries: [
        { header: { path: "app.json" }, body: '{"main":"server.js"}' },
        { header: { path: "link", typeFlag: "2" as const, linkTarget: env.work.root } },
        { header: { path: "link/pwned" }, body: "x" },
      ],
    },
  ];
  const connection = await connect();
  try {
    for (const c of cases) {
      const path = join(env.work.root, `${c.version}.tar.gz`);
      const bytes = encodeRawArchive(c.entries);
      await writeFile(path, bytes);
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      const deploy = startDeploy(connection, c.version, { path, sha256, sizeBytes: bytes.length });
      await assert.rejects(deploy.done, (err: unknown) => {
        assert.ok(TakoError.is(err, "ARTIFACT_REJECTED"), `${c.version}: ${String(err)}`);
        assert.match(err.message, /failed at step "extract"/);
        return true;
      });
      assert.ok(!existsSync(join(releasesDir(), c.version)), `${c.version}: no release directory`);
      assert.ok(!existsSync(outside), `${c.version}: nothing written outside`);
      assert.ok(!existsSync(join(env.work.root, "pwned")), `${c.version}: nothing written through the link`);
    }
  } finally {
    connection.close();
  }
});

test("secrets from stdin go to the host with the deploy (their hash differed), then sync finds them equal", async () => {
  // Its own app, never deployed before this test.
  const vault = await env.writeApp("vault");
  const set = await env.user.tako(["secrets", "set", "DB_URL", "--ci"], {
    cwd: vault,
    input: "postgres://db/prod\n",
  });
  assert.equal(set.code, 0, set.stderr);
  const stored = await readFile(join(vault, ".tako/secrets.json"), "utf8");
  assert.ok(!stored.includes("postgres://db/prod"), "encrypted at rest locally");
  assert.equal((await stat(join(vault, ".tako/keys/production"))).mode & 0o777, 0o600);
  const list = await env.user.tako(["secrets", "list", "--json"], { cwd: vault });
  assert.deepEqual(JSON.parse(list.stdout).envs, { production: ["DB_URL"] });

  const early = await env.user.tako(["secrets", "sync", "--ci"], { cwd: vault });
  assert.equal(early.code, 0, early.stderr);
  assert.match(
    early.stdout,
    /✓ local: not deployed there yet; `tako deploy` sends the secrets with the release/,
  );

  const hashOnHost = async () => {
    const connection = await connect();
    try {
      return (await connection.agent.client.getSecretsHash({ app: "vault", env: "production" })).hash;
    } finally {
      connection.close();
    }
  };
  assert.equal(await hashOnHost(), "");
  // The deploy sends them at the barrier, before the release command and the rollout.
  await env.user.tako(["deploy", "--ci"], { cwd: vault });
  assert.equal(await hashOnHost(), secretsHash({ DB_URL: "postgres://db/prod" }));
  const again = await env.user.tako(["secrets", "sync", "--ci"], { cwd: vault });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /✓ local: already in sync/);

  const noValue = await env.user.tako(["secrets", "set", "EMPTY"], { cwd: vault, input: "" });
  assert.equal(noValue.code, 1);
  assert.match(noValue.stderr, /no value for EMPTY on stdin\n {2}→ Pipe it in/);
});
