#!/usr/bin/env node
// Builds the daemon bundle that `tako servers add --install` ships to a server: a gzip-compressed
// tar of what a host needs, taken from this tree only (never fetched from elsewhere):
//   package.json, package-lock.json, tako-bundle.json (what was bundled, from which revision)
//   <workspace>/package.json, dist/ (tests left out), bin/   for every workspace a host runs
//   node_modules/…                                           production dependencies, native builds included
//   deploy/systemd/                                          the units and tako.target
//   scripts/bundle.mjs                                       so an installed CLI can bundle itself again
// Usage: node scripts/bundle.mjs --out <file.tar.gz>   (build first: npm run build)
// Only Node built-ins and the system's tar; prints the bundle's path and size as JSON on stdout.
import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = fileURLToPath(new URL("..", import.meta.url));
// Workspaces no host runs: the end-to-end tests and their helpers.
const NOT_SHIPPED = new Set(["test", "packages/testkit"]);

function fail(message) {
  process.stderr.write(`bundle: ${message}\n`);
  process.exit(1);
}

const outFlag = process.argv.indexOf("--out");
const out = outFlag === -1 ? undefined : process.argv[outFlag + 1];
if (!out) fail("usage: node scripts/bundle.mjs --out <file.tar.gz>");

const rootManifest = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
const lock = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8"));
const workspaces = rootManifest.workspaces.filter((w) => !NOT_SHIPPED.has(w));

const names = new Set(["package.json", "package-lock.json", "deploy/systemd", "scripts/bundle.mjs"]);
for (const ws of workspaces) {
  const manifest = join(REPO, ws, "package.json");
  if (!existsSync(manifest)) continue;
  names.add(`${ws}/package.json`);
  const dist = join(REPO, ws, "dist");
  const hasSource = existsSync(join(REPO, ws, "src"));
  if (hasSource && !existsSync(dist)) fail(`${ws} has no dist/: build first (npm run build)`);
  if (existsSync(dist)) names.add(`${ws}/dist`);
  if (existsSync(join(REPO, ws, "bin"))) names.add(`${ws}/bin`);
}

// Production dependencies, from the lockfile: every installed package that is not dev-only, and
// the links of the shipped workspaces (node_modules/@tako/* are symlinks into the tree).
for (const [path, entry] of Object.entries(lock.packages ?? {})) {
  if (!path.includes("node_modules/")) continue;
  const owner = path.slice(0, path.indexOf("node_modules/")).replace(/\/$/, "");
  if (owner && !workspaces.includes(owner) && !owner.includes("node_modules")) continue;
  if (entry.dev === true) continue;
  if (entry.link === true && !workspaces.includes(entry.resolved)) continue;
  const full = join(REPO, path);
  if (!existsSync(full) && !isSymlink(full)) continue; // an optional package for another platform
  // A package inside another one that is already included comes along with it.
  if ([...names].some((n) => path.startsWith(`${n}/`))) continue;
  names.add(path);
}
for (const n of [...names]) {
  if ([...names].some((other) => other !== n && n.startsWith(`${other}/`))) names.delete(n);
}

function isSymlink(path) {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function git(...args) {
  try {
    return execFileSync("git", args, {
      cwd: REPO,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "";
  }
}

const staging = mkdtempSync(join(tmpdir(), "tako-bundle-"));
try {
  const manifest = {
    version: rootManifest.version ?? JSON.parse(readFileSync(join(REPO, "cli/package.json"), "utf8")).version,
    revision: git("rev-parse", "--short=12", "HEAD") || "unknown",
    dirty: git("status", "--porcelain") !== "",
    builtAt: new Date().toISOString(),
    node: process.versions.node,
    workspaces,
  };
  writeFileSync(join(staging, "tako-bundle.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  const list = join(staging, "files.txt");
  writeFileSync(list, `${[...names].sort().join("\n")}\n`);
  const target = resolve(out);
  execFileSync(
    "tar",
    [
      "-czf",
      target,
      "--owner=0",
      "--group=0",
      "--exclude=*.test.js",
      "--exclude=*.test.js.map",
      "--exclude=*.test.d.ts",
      "--exclude=*.test.d.ts.map",
      "--exclude=*.tsbuildinfo",
      "--exclude=*/dist/test",
      "--exclude=*/build/Release/obj.target",
      "--exclude=*/build/Release/.deps",
      "--exclude=node_modules/better-sqlite3/deps",
      "-C",
      REPO,
      "-T",
      list,
      "-C",
      staging,
      "tako-bundle.json",
    ],
    { stdio: ["ignore", "ignore", "inherit"] },
  );
  process.stdout.write(
    `${JSON.stringify({ file: target, sizeBytes: statSync(target).size, ...manifest })}\n`,
  );
} finally {
  rmSync(staging, { recursive: true, force: true });
}
