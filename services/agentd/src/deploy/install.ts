import { lstat, mkdir, readFile, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { TakoError } from "@tako/errors";
import { describeOutcome, runProcess } from "./run-process.js";

export interface InstallOptions {
  readonly releaseDir: string;
  /** The host's own tako.sh SDK, linked as the release's node_modules/tako.sh. */
  readonly sdkDir: string;
  /** npm's cache and HOME for installs. */
  readonly npmDir: string;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

interface PackageJson {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

const SDK = "tako.sh";

/**
 * Installs a release's production dependencies from its lockfile, then links the host's SDK as
 * node_modules/tako.sh. The registry's `tako.sh` belongs to another project: an artifact that
 * would make npm fetch it is refused before npm runs.
 */
export async function installRelease(options: InstallOptions): Promise<{ ranNpm: boolean }> {
  const pkg = await readJson<PackageJson>(join(options.releaseDir, "package.json"));
  const lock = await readJson<{ packages?: Record<string, unknown> }>(
    join(options.releaseDir, "package-lock.json"),
  );
  if (
    pkg &&
    [pkg.dependencies, pkg.optionalDependencies, pkg.peerDependencies].some((deps) => deps && SDK in deps)
  ) {
    throw new TakoError(
      "ARTIFACT_REJECTED",
      `the release's package.json depends on "${SDK}", which npm would fetch from the registry`,
      {
        hint: "`tako deploy` removes that dependency from the artifact and the host provides its own SDK; deploy with the tako CLI.",
      },
    );
  }
  if (lock?.packages && `node_modules/${SDK}` in lock.packages) {
    throw new TakoError(
      "ARTIFACT_REJECTED",
      `the release's package-lock.json locks "${SDK}" from the registry`,
      {
        hint: "`tako deploy` removes it from the artifact and the host provides its own SDK; deploy with the tako CLI.",
      },
    );
  }
  const hasDeps = !!pkg && Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }).length > 0;
  if (hasDeps) {
    await mkdir(join(options.npmDir, "cache"), { recursive: true });
    const args = lock
      ? ["ci", "--omit=dev", "--no-audit", "--no-fund", "--loglevel=error"]
      : ["install", "--omit=dev", "--no-audit", "--no-fund", "--no-package-lock", "--loglevel=error"];
    const outcome = await runProcess({
      command: "npm",
      args,
      cwd: options.releaseDir,
      env: {
        PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
        HOME: options.npmDir,
        NODE_ENV: "production",
        npm_config_cache: join(options.npmDir, "cache"),
        npm_config_update_notifier: "false",
      },
      timeoutMs: options.timeoutMs,
      signal: options.signal,
    });
    if (outcome.kind !== "exited" || outcome.code !== 0) {
      throw new TakoError(
        "INSTALL_FAILED",
        `npm ${args[0]} ${describeOutcome(outcome, options.timeoutMs)}:\n${outcome.output.trim()}`,
        {
          hint: "Make sure package-lock.json matches package.json (run `npm install` locally) and deploy again.",
        },
      );
    }
  }
  const link = join(options.releaseDir, "node_modules", SDK);
  await mkdir(join(options.releaseDir, "node_modules"), { recursive: true });
  if (await lstat(link).catch(() => undefined)) await rm(link, { recursive: true, force: true });
  await symlink(options.sdkDir, link);
  return { ranNpm: hasDeps };
}

async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new TakoError("ARTIFACT_REJECTED", `${path.split("/").pop()} in the release is not valid JSON`);
  }
}
