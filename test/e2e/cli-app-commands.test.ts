// status, scale, releases, logs and delete through the real sshd against a real local host, for
// an app the host has prepared a release of but never run: each command either reports it as
// not deployed or fails with the next step; delete needs --yes and then removes what is there.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { buildApp, loadAppConfig } from "@tako/cli";
import { TakoError } from "@tako/errors";
import { type DeployEnv, startDeployEnv, startServerDeploy } from "../helpers/deploy-env.js";

let env: DeployEnv;
let app: string;

before(async () => {
  env = await startDeployEnv("ops");
  app = await env.writeApp("ops");
});
after(async () => {
  await env?.stop();
});

test("status shows an app the server never ran as not deployed, in text and JSON", async () => {
  const r = await env.user.tako(["status", "--ci"], { cwd: app });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^SERVER\s+APP\s+STATE/m);
  assert.match(r.stdout, /^local\s+ops\/production\s+not deployed/m);
  const json = JSON.parse((await env.user.tako(["status", "--json"], { cwd: app })).stdout);
  assert.deepEqual(json.servers, [
    { server: "local", apps: [{ app: "ops", env: "production", deployed: false }] },
  ]);
  const everywhere = await env.user.tako(["status", "--ci"], { cwd: env.work.root });
  assert.equal(everywhere.code, 0, everywhere.stderr);
  assert.equal(everywhere.stdout.trim(), "No apps deployed.");
});

test("scale, releases and logs of an app that is not deployed fail with the next step", async () => {
  for (const args of [["scale", "2"], ["releases", "list"], ["releases", "rollback", "v1"], ["logs"]]) {
    const r = await env.user.tako([...args, "--ci"], { cwd: app });
    assert.equal(r.code, 1, args.join(" "));
    assert.match(
      r.stderr,
      /ops\/production is not deployed on this host\n {2}→ Deploy it first with `tako deploy`/,
      args.join(" "),
    );
  }
  const bad = await env.user.tako(["scale", "-1"], { cwd: app });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /the instance count must be a whole number from 0 to 64, got -1/);
  const elsewhere = await env.user.tako(["scale", "1", "--server", "web-9"], { cwd: app });
  assert.match(elsewhere.stderr, /web-9 is not a server of \[envs.production\] \(local\)/);
});

test("delete needs --yes, then removes the app's releases from the server", async () => {
  const built = await buildApp(await loadAppConfig(join(app, "tako.toml")), { env: "production" });
  const connection = await env.connect();
  try {
    const deploy = startServerDeploy(connection, "ops", built.version, {
      path: built.artifactPath,
      ...built,
    });
    await deploy.prepared;
    deploy.abort(new TakoError("CANCELED", "test: prepared only"));
    await assert.rejects(deploy.done);
  } finally {
    connection.close();
  }
  const appDir = env.host.paths.appDir("ops", "production");
  assert.ok(existsSync(join(appDir, "releases", built.version)));

  const unconfirmed = await env.user.tako(["delete", "--ci"], { cwd: app });
  assert.equal(unconfirmed.code, 1);
  assert.match(
    unconfirmed.stderr,
    /→ Run it again with --yes to confirm: tako delete --env production --yes/,
  );
  assert.ok(existsSync(join(appDir, "releases", built.version)), "nothing deleted without --yes");

  const dry = await env.user.tako(["delete", "--yes", "--dry-run"], { cwd: app });
  assert.match(dry.stdout, /Dry run: would delete ops\/production from local/);
  assert.ok(existsSync(join(appDir, "releases", built.version)), "nothing deleted in a dry run");

  const r = await env.user.tako(["delete", "--yes", "--ci"], { cwd: app });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /✓ local: ops\/production deleted/);
  assert.ok(!existsSync(join(appDir, "releases", built.version)), "the release is gone");
});

test("servers setup-wildcard checks its flags, then asks agentd on each server of the env", async () => {
  const missing = await env.user.tako(
    ["servers", "setup-wildcard", "--zone", "example.com", "--provider", "rfc2136"],
    { cwd: app },
  );
  assert.equal(missing.code, 1);
  assert.match(
    missing.stderr,
    /this provider needs --dns-server\n {2}→ See `tako servers setup-wildcard --help`/,
  );
  // agentd validates the zone: the error comes back from the host, through SSH.
  const bad = await env.user.tako(
    ["servers", "setup-wildcard", "--zone", "not a zone", "--provider", "cloudflare", "--api-token", "t0ken"],
    { cwd: app },
  );
  assert.equal(bad.code, 1);
  assert.match(
    bad.stderr,
    /Error: local: "not a zone" is not a DNS zone name\n {2}→ For example: example\.com/,
  );
});
