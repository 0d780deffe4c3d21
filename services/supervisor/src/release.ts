import { realpath, stat } from "node:fs/promises";
import { isAbsolute, join, normalize, relative, sep } from "node:path";
import { checkName, checkVariables, checkVersion } from "@tako/appspec";
import { TakoError } from "@tako/errors";

export const DEFAULT_IDLE_TIMEOUT_MS = 300_000;
export const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;
const MAX_IDLE_TIMEOUT_MS = 30 * 24 * 3600_000;
const MAX_STARTUP_TIMEOUT_MS = 600_000;

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

/**
 * Checks a release before anything is started: names, variables and secrets (@tako/appspec's
 * rules), timeouts, and that the release
 * directory is a real directory under the app's releases/ (no symlink escapes) holding the entry
 * module. Returns the release with defaults applied.
 */
export async function validateRelease(release: Release, appDir: string): Promise<Release> {
  checkName("app", release.app);
  checkName("env", release.env);
  checkVersion(release.version);
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
  checkVariables("vars", release.vars);
  checkVariables("secrets", release.secrets);
  const idleTimeoutMs = release.idleTimeoutMs || DEFAULT_IDLE_TIMEOUT_MS;
  const startupTimeoutMs = release.startupTimeoutMs || DEFAULT_STARTUP_TIMEOUT_MS;
  if (idleTimeoutMs > MAX_IDLE_TIMEOUT_MS) throw invalid(release, "the idle timeout may be at most 30 days");
  if (startupTimeoutMs > MAX_STARTUP_TIMEOUT_MS)
    throw invalid(release, "the startup timeout may be at most 10 minutes");
  return { ...release, releaseDir: dir, main, idleTimeoutMs, startupTimeoutMs };
}
