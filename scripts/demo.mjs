#!/usr/bin/env node
// `npm run demo`: the main job, end to end on this machine. Starts a local Tako host under
// /tmp/tako-demo (unprivileged, high ports) and shows what runs there.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { build, ensureNodeDeps, nodeVersionOk, REPO_ROOT, step } from "./setup.mjs";

const ROOT = process.env.TAKO_DEMO_ROOT ?? "/tmp/tako-demo";
const tako = (...args) =>
  spawnSync(process.execPath, [join(REPO_ROOT, "cli/bin/tako.js"), ...args], {
    stdio: "inherit",
    cwd: REPO_ROOT,
  });

try {
  nodeVersionOk();
  ensureNodeDeps();
  build();
} catch (err) {
  process.stderr.write(`\n✗ ${err.message}\n`);
  process.exit(1);
}

step(`Starting a local Tako host under ${ROOT}`);
tako("server", "stop", "--root", ROOT); // a demo left running from before
const started = tako("server", "start", "--root", ROOT, "--detach");
if (started.status !== 0) process.exit(started.status ?? 1);

step("Stop it with:");
process.stdout.write(`  npx tako server stop --root ${ROOT}\n`);
