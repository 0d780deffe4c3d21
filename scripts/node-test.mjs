#!/usr/bin/env node
// Runs a workspace's compiled tests: every *.test.js under dist/ (or the directories given).
// Node 20's `node --test <dir>` would also run any .js file inside a directory named "test"
// (fixtures included), so the files are listed explicitly.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const dirs = process.argv.slice(2).filter((a) => !a.startsWith("--"));
const flags = process.argv.slice(2).filter((a) => a.startsWith("--"));
const files = [];
for (const dir of dirs.length ? dirs : ["dist"]) {
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && entry.name.endsWith(".test.js")) files.push(join(entry.parentPath, entry.name));
  }
}
if (files.length === 0) {
  console.error(`no *.test.js files under ${dirs.join(", ") || "dist"}: build first (npm run build)`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ["--test", "--test-reporter=spec", ...flags, ...files.sort()], {
  stdio: "inherit",
});
process.exit(result.status ?? 1);
