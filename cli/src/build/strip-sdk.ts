import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TakoError } from "@tako/errors";

/**
 * Apps import our SDK as "tako.sh", but that name on the npm registry belongs to the original
 * project. The host links its own SDK into node_modules/tako.sh after the production install, so
 * the artifact must not make npm fetch the registry's package: the dependency is removed from the
 * build's package.json and every trace of it from package-lock.json. Returns true when it did.
 */
export const SDK_PACKAGE = "tako.sh";
const DEPENDENCY_FIELDS = ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"];

export async function stripSdkDependency(buildDir: string): Promise<boolean> {
  let changed = false;
  const pkgPath = join(buildDir, "package.json");
  const pkg = await readJson(pkgPath);
  if (pkg && removeFrom(pkg)) {
    await writeFile(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);
    changed = true;
  }
  const lockPath = join(buildDir, "package-lock.json");
  const lock = await readJson(lockPath);
  if (lock) {
    let lockChanged = false;
    const packages = lock.packages as Record<string, Record<string, unknown>> | undefined;
    if (packages) {
      for (const path of Object.keys(packages)) {
        if (path === `node_modules/${SDK_PACKAGE}` || path.endsWith(`/node_modules/${SDK_PACKAGE}`)) {
          delete packages[path];
          lockChanged = true;
        }
      }
      const rootEntry = packages[""];
      if (rootEntry && removeFrom(rootEntry)) lockChanged = true;
    }
    // lockfileVersion 1 keeps a tree under "dependencies" instead.
    const legacy = lock.dependencies as Record<string, unknown> | undefined;
    if (legacy && SDK_PACKAGE in legacy) {
      delete legacy[SDK_PACKAGE];
      lockChanged = true;
    }
    if (lockChanged) {
      await writeFile(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
      changed = true;
    }
  }
  return changed;
}

function removeFrom(manifest: Record<string, unknown>): boolean {
  let changed = false;
  for (const field of DEPENDENCY_FIELDS) {
    const deps = manifest[field] as Record<string, unknown> | undefined;
    if (deps && typeof deps === "object" && SDK_PACKAGE in deps) {
      delete deps[SDK_PACKAGE];
      changed = true;
    }
  }
  return changed;
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new TakoError(
      "BUILD_FAILED",
      `${path.split("/").pop()} is not valid JSON: ${(err as Error).message}`,
      {
        cause: err,
        hint: "Fix the file in your app and deploy again.",
      },
    );
  }
}
