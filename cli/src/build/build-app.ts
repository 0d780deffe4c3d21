import { spawn } from "node:child_process";
import { cp, lstat, mkdir, readdir, readFile, readlink, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { packArtifact } from "@tako/artifact";
import { TakoError } from "@tako/errors";
import type { AppConfig } from "../config/app-config.js";
import { sourceFiles } from "./source-files.js";
import { stripSdkDependency } from "./strip-sdk.js";
import { gitInfo, type ReleaseVersion, releaseVersion } from "./version.js";

/** The release built from the app's source, ready to ship. */
export interface BuiltRelease {
  readonly app: string;
  readonly version: string;
  readonly buildDir: string;
  readonly artifactPath: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly files: number;
  readonly main: string;
  readonly source: ReleaseVersion;
  /** Whether "tako.sh" was removed from the dependencies (the host provides its SDK). */
  readonly strippedSdk: boolean;
  /** Milliseconds per build step: copy, build, assets, pack. */
  readonly durationsMs: Readonly<Record<string, number>>;
}

export interface BuildOptions {
  readonly env: string;
  /** Output of the build command, as it is produced. */
  readonly onOutput?: (chunk: string) => void;
  readonly onStep?: (step: string) => void;
}

const MAIN_CANDIDATES = ["index.js", "index.mjs", "server.js", "server.mjs", "main.js", "app.js"];
const OUTPUT_TAIL_BYTES = 8_000;

/**
 * Builds the app into .tako/build and packs .tako/artifacts/<app>-<version>.tar.gz:
 * copy the source (respecting .gitignore; never .git, .tako, node_modules, .env*), run
 * [build].command there, merge [build].assets into public/, drop the registry's tako.sh from
 * the dependencies, write app.json, pack.
 */
export async function buildApp(config: AppConfig, options: BuildOptions): Promise<BuiltRelease> {
  const durationsMs: Record<string, number> = {};
  const timed = async <T>(step: string, body: () => Promise<T>): Promise<T> => {
    options.onStep?.(step);
    const t0 = performance.now();
    try {
      return await body();
    } finally {
      durationsMs[step] = Math.round(performance.now() - t0);
    }
  };
  const appDir = config.appDir;
  const buildDir = join(appDir, ".tako/build");

  const source = await timed("copy", async () => {
    const git = await gitInfo(appDir);
    const files = await sourceFiles(appDir, git?.root);
    const version = await releaseVersion(appDir, files, git);
    await rm(buildDir, { recursive: true, force: true });
    await mkdir(buildDir, { recursive: true });
    for (const file of files) await copyEntry(join(appDir, file), join(buildDir, file));
    return version;
  });

  if (config.build.command) {
    const command = config.build.command;
    await timed("build", () => runBuildCommand(command, appDir, buildDir, source.version, options));
  }

  if (config.build.assets.length > 0) {
    await timed("assets", async () => {
      for (const asset of config.build.assets) {
        const from = join(buildDir, asset);
        const st = await lstat(from).catch(() => undefined);
        if (!st?.isDirectory()) {
          throw new TakoError("BUILD_FAILED", `the asset directory ${asset} does not exist after the build`, {
            hint: `Check [build] assets in ${config.file}: each entry is a directory the build produces, e.g. "dist/client".`,
          });
        }
        await cp(from, join(buildDir, "public"), { recursive: true, force: true, verbatimSymlinks: true });
      }
    });
  }

  const strippedSdk = await stripSdkDependency(buildDir);
  const main = await resolveMain(config, buildDir);
  const manifest = {
    name: config.name,
    env: options.env,
    version: source.version,
    main,
    runtime: "node",
    node_version: process.versions.node,
    commit_message: source.git?.subject ?? "",
    git_commit: source.git?.commit ?? "",
    git_dirty: source.git?.dirty ?? false,
    content_hash: source.contentHash,
    built_at: new Date().toISOString(),
  };
  await writeFile(join(buildDir, "app.json"), `${JSON.stringify(manifest, null, 2)}\n`);

  const artifactPath = join(appDir, ".tako/artifacts", `${config.name}-${source.version}.tar.gz`);
  const packed = await timed("pack", async () => {
    await mkdir(dirname(artifactPath), { recursive: true });
    return packArtifact(buildDir, artifactPath);
  });
  return {
    app: config.name,
    version: source.version,
    buildDir,
    artifactPath,
    sha256: packed.sha256,
    sizeBytes: packed.sizeBytes,
    files: packed.files,
    main,
    source,
    strippedSdk,
    durationsMs,
  };
}

async function copyEntry(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  const st = await lstat(from);
  if (st.isSymbolicLink()) await symlink(await readlink(from), to);
  else await cp(from, to, { preserveTimestamps: false });
}

/**
 * Runs the build command with `sh -c` in the build directory. The app's own node_modules (if
 * installed) is linked in for the build's tools and removed afterwards: the host installs
 * production dependencies from the lockfile.
 */
async function runBuildCommand(
  command: string,
  appDir: string,
  buildDir: string,
  version: string,
  options: BuildOptions,
): Promise<void> {
  const modules = join(buildDir, "node_modules");
  const hasModules = await lstat(join(appDir, "node_modules")).then(
    (s) => s.isDirectory(),
    () => false,
  );
  if (hasModules) await symlink(join(appDir, "node_modules"), modules);
  let tail = "";
  try {
    const code = await new Promise<number | string>((resolve, reject) => {
      const child = spawn("sh", ["-c", command], {
        cwd: buildDir,
        env: { ...process.env, ENV: options.env, TAKO_ENV: options.env, TAKO_BUILD: version },
        stdio: ["ignore", "pipe", "pipe"],
      });
      const collect = (data: Buffer) => {
        const text = data.toString("utf8");
        options.onOutput?.(text);
        tail = (tail + text).slice(-OUTPUT_TAIL_BYTES);
      };
      child.stdout.on("data", collect);
      child.stderr.on("data", collect);
      child.once("error", reject);
      child.once("close", (exitCode, signal) => resolve(exitCode ?? signal ?? "unknown"));
    });
    if (code !== 0) {
      throw new TakoError(
        "BUILD_FAILED",
        `the build command \`${command}\` failed (${typeof code === "number" ? `exit code ${code}` : code}):\n${tail.trimEnd()}`,
        {
          metadata: { step: "build" },
        },
      );
    }
  } finally {
    if (hasModules) {
      const st = await lstat(modules).catch(() => undefined);
      if (st?.isSymbolicLink()) await rm(modules, { force: true });
    }
  }
}

/** The entry module: tako.toml main, else package.json main, else a conventional file name. */
async function resolveMain(config: AppConfig, buildDir: string): Promise<string> {
  const isFile = (rel: string) =>
    lstat(join(buildDir, rel)).then(
      (s) => s.isFile(),
      () => false,
    );
  const declared = config.main ?? (await packageMain(buildDir));
  if (declared) {
    const rel = declared.replace(/^\.\//, "");
    if (!(await isFile(rel))) {
      const where = config.main ? `main in ${config.file}` : `"main" in package.json`;
      throw new TakoError("BUILD_FAILED", `${where} is "${declared}", but the build has no such file`, {
        hint: `Point it at the module that exports the app's fetch handler${config.build.command ? " (after the build command)" : ""}, e.g. main = "server.js".`,
      });
    }
    return rel;
  }
  for (const candidate of MAIN_CANDIDATES) if (await isFile(candidate)) return candidate;
  const top = (await readdir(buildDir)).slice(0, 10).join(", ");
  throw new TakoError(
    "BUILD_FAILED",
    `cannot tell the app's entry module: no main in tako.toml or package.json, and none of ${MAIN_CANDIDATES.join(", ")} exists (found: ${top})`,
    {
      hint: `Set it in ${config.file}, e.g. main = "server.js".`,
    },
  );
}

async function packageMain(buildDir: string): Promise<string | undefined> {
  const text = await readFile(join(buildDir, "package.json"), "utf8").catch(() => undefined);
  if (!text) return undefined;
  const main = (JSON.parse(text) as { main?: unknown }).main;
  return typeof main === "string" && main ? main : undefined;
}
