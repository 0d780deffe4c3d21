import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";

// The tako.sh SDK apps run with is always this installation's (the workspace package `sdk/`),
// never a copy from the npm registry, whose package of the same name is another project's.

/** The SDK's server entrypoint, resolved from this installation (its real path). */
export function sdkEntrypointPath(): string {
  return realpathSync(fileURLToPath(import.meta.resolve("tako.sh/entrypoints/server")));
}

export { linkSdk, sdkPackageDir } from "tako.sh/host";
