#!/usr/bin/env node
// `npm run demo`: the main job, end to end on this machine. Starts a local Tako host under
// /tmp/tako-demo (unprivileged, high ports), then deploys examples/hello to it exactly as a user
// deploys to a server: `tako servers add` and `tako deploy` over SSH, through a throwaway OpenSSH
// server on loopback with its own keys (the harness the tests use; a fresh machine has no sshd
// and no key to log in with). Prints the app's URL and the command that stops everything.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import {
  build,
  ensureNodeDeps,
  ensureSystemPackages,
  nodeVersionOk,
  REPO_ROOT,
  step,
  TEST_PACKAGES,
} from "./setup.mjs";

const ROOT = process.env.TAKO_DEMO_ROOT ?? "/tmp/tako-demo";
const HTTPS_PORT = Number(process.env.TAKO_DEMO_HTTPS_PORT ?? 8443);
const HTTP_PORT = Number(process.env.TAKO_DEMO_HTTP_PORT ?? 8080);
const HOST = "hello.localhost";
const STOP = `npx tako server stop --root ${ROOT}`;

const tako = (args, env = {}, cwd = REPO_ROOT) =>
  spawnSync(process.execPath, [join(REPO_ROOT, "cli/bin/tako.js"), ...args], {
    stdio: "inherit",
    cwd,
    env: { ...process.env, ...env },
  });
const fail = (message, hostRunning = false) => {
  process.stderr.write(`\n✗ ${message}\n`);
  if (hostRunning) process.stderr.write(`  The local host keeps running; stop it with: ${STOP}\n`);
  process.exit(1);
};

try {
  nodeVersionOk();
  ensureNodeDeps();
  ensureSystemPackages(
    // The harness sshd and its keys, curl for the check below, useradd for the supervisor's
    // per-app users (when run as root).
    TEST_PACKAGES.filter((p) => ["/usr/sbin/sshd", "ssh-keygen", "curl", "useradd"].includes(p.command)),
  );
  build();
} catch (err) {
  fail(err.message);
}

step(`Starting a local Tako host under ${ROOT}`);
tako(["server", "stop", "--root", ROOT, "--ci"]); // a demo left running from before
const started = tako([
  "server",
  "start",
  "--root",
  ROOT,
  "--detach",
  "--http-port",
  String(HTTP_PORT),
  "--https-port",
  String(HTTPS_PORT),
]);
if (started.status !== 0) fail("the local host did not start (see above)");

// The user's side: a home whose ~/.ssh trusts the demo sshd, and Tako's global config.
const home = join(ROOT, "demo-user");
const app = join(ROOT, "demo-app");
rmSync(home, { recursive: true, force: true });
rmSync(app, { recursive: true, force: true });
mkdirSync(home, { recursive: true });
cpSync(join(REPO_ROOT, "examples/hello"), app, { recursive: true });
const userEnv = { HOME: home, TAKO_HOME: join(home, ".config/tako"), SSH_AUTH_SOCK: "" };

const { startTestSshd } = await import("@tako/testkit");
step("Starting a throwaway sshd on loopback (its own host key; your ~/.ssh is not touched)");
let sshd;
let deployed;
try {
  sshd = await startTestSshd();
  await sshd.setUpHome(home);
  step(`tako servers add demo ${sshd.target} --port ${sshd.port} --root ${ROOT}`);
  const added = tako(
    ["servers", "add", "demo", sshd.target, "--port", String(sshd.port), "--root", ROOT],
    userEnv,
  );
  if (added.status !== 0) throw new Error("`tako servers add` failed (see above)");
  step("tako deploy (examples/hello)");
  deployed = tako(["deploy"], userEnv, app);
} catch (err) {
  await sshd?.stop();
  fail(err.message, true);
}
await sshd.stop();
if (deployed.status !== 0) fail("`tako deploy` failed (see above).", true);

const url = `https://${HOST}:${HTTPS_PORT}/`;
// What the printed command does (curl resolves *.localhost to loopback by itself).
const probe = spawnSync("curl", ["-ks", "-o", "/dev/null", "-w", "%{http_code}", url], { encoding: "utf8" });
if (probe.stdout !== "200") fail(`${url} answered ${probe.stdout || probe.stderr}, not 200.`, true);

step("The app answers over HTTPS:");
process.stdout.write(`  ${url}\n  curl -k ${url}\n`);
step("Stop it with:");
process.stdout.write(`  ${STOP}\n`);
