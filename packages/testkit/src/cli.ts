import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "./processes.js";

/** Absolute path of the repository's `tako` executable (cli/bin/tako.js). */
export const TAKO_BIN = fileURLToPath(new URL("../../../../cli/bin/tako.js", import.meta.url));
/** Absolute path of the repository root. */
export const REPO_ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the real CLI as a user would, never throwing on a non-zero exit. */
export function runTako(
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [TAKO_BIN, ...args],
      {
        cwd: options.cwd ?? REPO_ROOT,
        env: { ...process.env, ...options.env },
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 << 20,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    // What a user pipes in (e.g. a secret's value); otherwise stdin is closed at once.
    child.stdin?.end(options.input ?? "");
  });
}

/**
 * `tako server start --root <root> --detach --ci` through the real CLI, on the given ports (by
 * default two free ones), as the README tells users to; the caller stops it.
 */
export async function startTakoServer(
  root: string,
  ports?: { readonly http: string; readonly https: string },
): Promise<CliResult & { readonly http: string; readonly https: string }> {
  const http = ports?.http ?? String(await freePort());
  const https = ports?.https ?? String(await freePort());
  const result = await runTako([
    "server",
    "start",
    "--root",
    root,
    "--http-port",
    http,
    "--https-port",
    https,
    "--detach",
    "--ci",
  ]);
  return { ...result, http, https };
}
