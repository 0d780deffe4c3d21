import { createHash } from "node:crypto";
import { chmod, mkdir, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runEsbuild } from "./esbuild-runner.js";

/**
 * The SDK's server entrypoint as one file. Node 20 loads a graph of small ES modules noticeably
 * slower than a single file (≈6 ms per cold start on the reference machine), so the supervisor
 * bundles the entrypoint of its own SDK installation once, into `dir` (the run directory, which
 * app users can read), named by content hash. The bundle shares the runtime state with the
 * app's `tako.sh` through a global symbol (see sdk/src/runtime/state.ts).
 */
export async function bundleSdkEntrypoint(entrypoint: string, dir: string): Promise<string> {
  const files = await runEsbuild({
    entryPoints: [entrypoint],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "silent",
  });
  const code = files[0]?.contents;
  if (!code) throw new Error("esbuild produced no output");
  const hash = createHash("sha256").update(code).digest("hex").slice(0, 16);
  const out = join(dir, `sdk-server-${hash}.mjs`);
  if (
    await stat(out).then(
      () => true,
      () => false,
    )
  )
    return out;
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await chmod(dir, 0o755);
  const tmp = `${out}.${process.pid}.tmp`;
  await writeFile(tmp, code, { mode: 0o644 });
  await chmod(tmp, 0o644);
  await rename(tmp, out);
  return out;
}
