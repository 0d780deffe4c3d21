import { lstat, mkdir, rm, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// Used by the host (agentd when it installs a release, the supervisor's tests), never by apps:
// every release resolves `tako.sh` to this installation's SDK, never to the registry package of
// the same name, which is another project's.

/** Directory of this installation's SDK package (where its package.json is). */
export function sdkPackageDir(): string {
  // This module is <sdk>/dist/src/host/release-link.js.
  return fileURLToPath(new URL("../../../", import.meta.url)).replace(/\/$/, "");
}

/**
 * Points `<release>/node_modules/tako.sh` at this installation's SDK, replacing whatever was
 * there, so `import … from "tako.sh"` in the app and the entrypoint the supervisor spawns resolve
 * to the same files.
 */
export async function linkSdk(releaseDir: string): Promise<void> {
  const link = join(releaseDir, "node_modules", "tako.sh");
  await mkdir(dirname(link), { recursive: true });
  if (await lstat(link).catch(() => undefined)) await rm(link, { recursive: true, force: true });
  await symlink(sdkPackageDir(), link);
}
