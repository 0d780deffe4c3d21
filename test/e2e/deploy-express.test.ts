// An Express app through the whole management path: the artifact carries no node_modules, the
// host installs the production dependencies from the app's lockfile (the real npm registry), and
// the app answers over HTTPS through the edge with the secret set by `tako secrets set`.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type DeployEnv, startDeployEnv } from "../helpers/deploy-env.js";
import { curlEdge } from "../helpers/edge-client.js";

const HOST = "express.tako.test";

let env: DeployEnv;
let app: string;

before(async () => {
  env = await startDeployEnv("express");
  app = await env.fixtureApp("express");
  const set = await env.user.tako(["secrets", "set", "GREETING_NAME", "--ci"], { cwd: app, input: "Grace" });
  assert.equal(set.code, 0, set.stderr);
});
after(async () => {
  await env?.stop();
});

test("the Express app deploys with its production dependencies installed on the host from its lockfile", async () => {
  const r = await env.user.tako(["deploy", "--ci", "--json"], { cwd: app, timeoutMs: 600_000 });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const install = out.servers[0].result.steps.find((s: { name: string }) => s.name === "install");
  assert.equal(install?.detail, "production dependencies installed");

  // The artifact carried the lockfile and no node_modules: the host's copy came from npm.
  const shipped = execFileSync("tar", ["-tzf", out.artifact.path], { encoding: "utf8" }).split("\n");
  assert.ok(shipped.includes("package-lock.json"), shipped.join(" "));
  assert.ok(!shipped.some((p) => p.includes("node_modules")), shipped.join(" "));
  const release = join(env.host.paths.appDir("express", "production"), "releases", out.version);
  const lock = JSON.parse(await readFile(join(app, "package-lock.json"), "utf8"));
  const installed = JSON.parse(await readFile(join(release, "node_modules/express/package.json"), "utf8"));
  assert.equal(installed.version, lock.packages["node_modules/express"].version, "the locked version");
  assert.ok(existsSync(join(release, "node_modules/tako.sh")), "the host's SDK is linked in");

  const reply = await curlEdge(env.host.httpsPort, HOST, "/", {
    cacert: join(env.host.paths.certsDir, HOST, "fullchain.pem"),
  });
  assert.equal(reply.status, 200, reply.body);
  assert.deepEqual(JSON.parse(reply.body), { framework: "express", greeting: "Hello, Grace!" });
  assert.match(reply.headers["x-powered-by"] ?? "", /Express/, "Express itself answered");

  // The app's own /status is public but cannot pass for the supervisor's probe.
  const status = await curlEdge(env.host.httpsPort, HOST, "/status", {
    headers: { "x-tako-internal-token": "guess" },
  });
  assert.equal(status.status, 200);
  assert.equal(status.headers["x-tako-internal-token"], undefined, "the token header never reaches the app");
});
