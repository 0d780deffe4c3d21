import { realpathSync } from "node:fs";
import { lstat, mkdir, rm, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// The tako.sh SDK apps run with is always this installation's (the workspace package `sdk/`),
// never a copy from the npm registry, whose package of the same name is another project's.

/** The SDK's server entrypoint, resolved from this installation (its real path). */
export function sdkEntrypointPath(): string {
  return realpathSync(fileURLToPath(import.meta.resolve("tako.sh/entrypoints/server")));
}

/** Directory of this installation's SDK package. */
export function sdkPackageDir(): string {
  return dirname(realpathSync(fileURLToPath(import.meta.resolve("tako.sh/package.json"))));
}

/**
 * Points `<release>/node_modules/tako.sh` at this installation's SDK (replacing whatever the
 * release shipped there), so `import … from "tako.sh"` in the app and the entrypoint the
 * supervisor spawns resolve to the same files: one module instance, one `tako.secrets`.
 * The deploy engine calls this after extracting a release.
 */
export async function linkSdk(releaseDir: string): Promise<void> {
  const link = join(releaseDir, "node_modules", "tako.sh");
  await mkdir(dirname(link), { recursive: true });
  const existing = await lstat(link).catch(() => undefined);
  if (existing) await rm(link, { recursive: true, force: true });
  await symlink(sdkPackageDir(), link);
}
