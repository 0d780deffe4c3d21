import { realpath, stat } from "node:fs/promises";
import { isAbsolute, join, normalize, relative, sep } from "node:path";
import { TakoError } from "@tako/errors";
import { assertName, assertVersion } from "./names.js";

export const DEFAULT_IDLE_TIMEOUT_MS = 300_000;
export const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;
const MAX_IDLE_TIMEOUT_MS = 30 * 24 * 3600_000;
const MAX_STARTUP_TIMEOUT_MS = 600_000;
const MAX_ENV_BYTES = 1024 * 1024;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** One release of an {app}/{env} as the supervisor runs it (the domain form of ReleaseSpec). */
export interface Release {
  readonly app: string;
  readonly env: string;
  readonly version: string;
  /** Absolute path of the extracted release, under {appDir}/releases/. */
  readonly releaseDir: string;
  /** Entry module, relative to releaseDir. */
  readonly main: string;
  readonly vars: Readonly<Record<string, string>>;
  /** Handed to processes on fd 3 only; encrypted at rest. */
  readonly secrets: Readonly<Record<string, string>>;
  readonly idleTimeoutMs: number;
  readonly startupTimeoutMs: number;
}

function invalid(release: Pick<Release, "app" | "env">, message: string): TakoError {
  return new TakoError("RELEASE_INVALID", message, { metadata: { app: release.app, env: release.env } });
}

function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel);
}

function checkEnvMap(release: Release, map: Readonly<Record<string, string>>, what: string): void {
  let bytes = 0;
  for (const [name, value] of Object.entries(map)) {
    if (!ENV_NAME.test(name)) {
      throw invalid(
        release,
        `${what} name ${JSON.stringify(name.slice(0, 130))} is not a valid variable name (A-Z, a-z, 0-9, "_"; not starting with a digit)`,
      );
    }
    if (value.includes("\0")) throw invalid(release, `${what} ${name} contains a NUL byte`);
    bytes += name.length + Buffer.byteLength(value);
  }
  if (bytes > MAX_ENV_BYTES)
    throw invalid(release, `${what} take ${bytes} bytes; at most ${MAX_ENV_BYTES} are allowed`);
}

/**
 * Checks a release before anything is started: names, timeouts, variables, and that the release
 * directory is a real directory under the app's releases/ (no symlink escapes) holding the entry
 * module. Returns the release with defaults applied.
 */
export async function validateRelease(release: Release, appDir: string): Promise<Release> {
  assertName(release.app, "app");
  assertName(release.env, "env");
  assertVersion(release.version);
  if (!isAbsolute(release.releaseDir))
    throw invalid(release, "the release directory must be an absolute path");
  const releasesDir = join(appDir, "releases");
  const dir = normalize(release.releaseDir);
  if (!isInside(releasesDir, dir)) {
    throw invalid(release, `the release directory must be inside the app's releases/ directory`);
  }
  let realDir: string;
  try {
    realDir = await realpath(dir);
    if (!(await stat(realDir)).isDirectory()) throw new Error("not a directory");
  } catch {
    throw invalid(release, `release ${release.version} has not been extracted on this host`);
  }
  if (!isInside(await realpath(releasesDir), realDir)) {
    throw invalid(release, "the release directory resolves outside the app's releases/ directory");
  }
  const main = normalize(release.main);
  if (main === "" || main === "." || isAbsolute(main) || main.startsWith(`..${sep}`) || main === "..") {
    throw invalid(
      release,
      `the entry module ${JSON.stringify(release.main)} must be a path inside the release`,
    );
  }
  try {
    const realMain = await realpath(join(realDir, main));
    if (!isInside(realDir, realMain) || !(await stat(realMain)).isFile()) throw new Error("outside");
  } catch {
    throw invalid(release, `the entry module ${main} does not exist in release ${release.version}`);
  }
  checkEnvMap(release, release.vars, "variable");
  checkEnvMap(release, release.secrets, "secret");
  const idleTimeoutMs = release.idleTimeoutMs || DEFAULT_IDLE_TIMEOUT_MS;
  const startupTimeoutMs = release.startupTimeoutMs || DEFAULT_STARTUP_TIMEOUT_MS;
  if (idleTimeoutMs > MAX_IDLE_TIMEOUT_MS) throw invalid(release, "the idle timeout may be at most 30 days");
  if (startupTimeoutMs > MAX_STARTUP_TIMEOUT_MS)
    throw invalid(release, "the startup timeout may be at most 10 minutes");
  return { ...release, releaseDir: dir, main, idleTimeoutMs, startupTimeoutMs };
}
