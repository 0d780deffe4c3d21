import { TakoError } from "@tako/errors";
import { describeOutcome, runProcess } from "./run-process.js";

export interface ReleaseCommandOptions {
  readonly command: string;
  readonly releaseDir: string;
  readonly dataDir: string;
  readonly app: string;
  readonly env: string;
  readonly version: string;
  readonly vars: Readonly<Record<string, string>>;
  /** One-shot commands get secrets as environment variables (long-running ones only on fd 3). */
  readonly secrets: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/** Runs the release command (migrations…) once, with `sh -c`, in the release directory. */
export async function runReleaseCommand(options: ReleaseCommandOptions): Promise<void> {
  const outcome = await runProcess({
    command: "/bin/sh",
    args: ["-c", options.command],
    cwd: options.releaseDir,
    env: {
      PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
      HOME: options.dataDir,
      ...options.vars,
      ...options.secrets,
      ENV: options.env,
      NODE_ENV: "production",
      TAKO_APP_NAME: `${options.app}/${options.env}`,
      TAKO_BUILD: options.version,
      TAKO_DATA_DIR: options.dataDir,
    },
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  });
  if (outcome.kind === "exited" && outcome.code === 0) return;
  throw new TakoError(
    "RELEASE_COMMAND_FAILED",
    `the release command \`${options.command}\` ${describeOutcome(outcome, options.timeoutMs)}${outcome.output.trim() ? `:\n${outcome.output.trim()}` : ""}`,
    { hint: "Fix the command (or what it runs) and deploy again; the previous release keeps serving." },
  );
}
