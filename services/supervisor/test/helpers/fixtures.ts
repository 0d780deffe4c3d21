import { execFile } from "node:child_process";
import { cp, mkdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import type { HostPaths } from "@tako/daemon";
import { REPO_ROOT } from "@tako/testkit";
import { linkSdk } from "../../src/spawn/sdk-link.js";

const run = promisify(execFile);

export const FIXTURE_APPS = join(REPO_ROOT, "test/fixtures/apps");
export type FixtureApp = "ts-fetch" | "express" | "crashy" | "crash-on-start" | "never-ready";

const mtime = (path: string) =>
  stat(path).then(
    (s) => s.mtimeMs,
    () => -1,
  );

/**
 * The Express fixture's node_modules, from the npm registry with `npm ci` (its own lockfile),
 * unless already installed from the current lockfile. A directory lock keeps two test files
 * from installing at once.
 */
export async function ensureExpressDeps(): Promise<void> {
  const dir = join(FIXTURE_APPS, "express");
  const installed = async () =>
    (await mtime(join(dir, "node_modules/.package-lock.json"))) >=
    (await mtime(join(dir, "package-lock.json")));
  if (await installed()) return;
  const lock = join(dir, ".installing");
  for (let i = 0; ; i++) {
    try {
      await mkdir(lock);
      break;
    } catch {
      if (i > 600) throw new Error(`${lock} is held for too long; remove it if no install runs`);
      await new Promise((r) => setTimeout(r, 200));
      if (await installed()) return;
    }
  }
  try {
    if (!(await installed())) {
      await run("npm", ["ci", "--no-audit", "--no-fund", "--workspaces=false"], {
        cwd: dir,
        timeout: 300_000,
      });
    }
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

export interface InstallOptions {
  readonly app: string;
  readonly env?: string;
  readonly version: string;
  readonly fixture: FixtureApp;
}

/**
 * Puts a fixture app where the deploy engine extracts releases ({appDir}/releases/{version}) and
 * links this repository's SDK into its node_modules, as agentd does. Returns the release dir.
 */
export async function installRelease(paths: HostPaths, options: InstallOptions): Promise<string> {
  if (options.fixture === "express") await ensureExpressDeps();
  const dir = join(paths.appDir(options.app, options.env ?? "production"), "releases", options.version);
  await mkdir(dir, { recursive: true });
  await cp(join(FIXTURE_APPS, options.fixture), dir, { recursive: true });
  await linkSdk(dir);
  return dir;
}

/** Entry module of each fixture, relative to its release dir. */
export const FIXTURE_MAIN: Record<FixtureApp, string> = {
  "ts-fetch": "src/index.ts",
  express: "server.js",
  crashy: "index.mjs",
  "crash-on-start": "index.mjs",
  "never-ready": "index.mjs",
};
