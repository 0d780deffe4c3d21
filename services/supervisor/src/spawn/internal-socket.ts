import { createHash } from "node:crypto";
import { join } from "node:path";
import type { HostPaths } from "@tako/daemon";

/**
 * TAKO_INTERNAL_SOCKET of an {app}/{env}: the per-app socket workflowd and channeld will serve.
 * Named by a hash so the path stays within the 107-byte socket limit whatever the names.
 */
export function internalSocketPath(paths: HostPaths, app: string, env: string): string {
  const hash = createHash("sha256").update(`${app}/${env}`).digest("hex").slice(0, 16);
  return join(paths.runDir, "apps", `${hash}.sock`);
}
