#!/usr/bin/env node
// `npm test`: the whole suite on a fresh clone. Installs what it needs, builds, lints, then runs
// every workspace's tests (unit, integration, end-to-end) and prints a summary.
//   npm test                  everything
//   npm test -- rpc agentd    only workspaces whose directory name matches
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
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

const filters = process.argv.slice(2);
const started = Date.now();
try {
  nodeVersionOk();
  ensureNodeDeps();
  ensureSystemPackages(TEST_PACKAGES);
  build();
  if (filters.length === 0) {
    step("Lint and format check (biome)");
    const lint = spawnSync(join(REPO_ROOT, "node_modules/.bin/biome"), ["check", "."], {
      stdio: "inherit",
      cwd: REPO_ROOT,
    });
    if (lint.status !== 0) throw new Error("biome check failed: run `npx biome check --write .` and review");
  }
} catch (err) {
  process.stderr.write(`\n✗ ${err.message}\n`);
  process.exit(1);
}

const { workspaces } = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
const selected = workspaces.filter((w) => filters.length === 0 || filters.some((f) => w.includes(f)));
const results = [];
for (const ws of selected) {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, ws, "package.json"), "utf8"));
  if (!manifest.scripts?.test) continue; // a workspace whose code has not landed yet
  step(`Tests: ${ws}`);
  const t0 = Date.now();
  const r = spawnSync("npm", ["test", "--silent"], { stdio: "inherit", cwd: join(REPO_ROOT, ws) });
  results.push({ ws, ok: r.status === 0, seconds: ((Date.now() - t0) / 1000).toFixed(1) });
}
process.stderr.write("\nSummary\n");
for (const r of results) process.stderr.write(`  ${r.ok ? "✓" : "✗"} ${r.ws.padEnd(24)} ${r.seconds}s\n`);
const failed = results.filter((r) => !r.ok);
process.stderr.write(
  `\n${failed.length ? `✗ ${failed.length} workspace(s) failed` : "✓ all tests passed"} in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
);
process.exit(failed.length ? 1 : 0);
