import { spawn } from "node:child_process";

export interface RunOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Only the last bytes of stdout+stderr are kept (for error messages). Default 4000. */
  readonly keepOutputBytes?: number;
}

export type RunOutcome =
  | { readonly kind: "exited"; readonly code: number; readonly output: string }
  | { readonly kind: "killed"; readonly signal: string; readonly output: string }
  | { readonly kind: "timed-out"; readonly output: string }
  | { readonly kind: "aborted"; readonly output: string }
  | { readonly kind: "spawn-failed"; readonly message: string; readonly output: string };

/**
 * Runs a command to completion in its own process group, keeping the tail of its output. On the
 * deadline or an abort the whole group is killed (npm and shells start children of their own).
 */
export function runProcess(options: RunOptions): Promise<RunOutcome> {
  const keep = options.keepOutputBytes ?? 4000;
  return new Promise((resolve) => {
    let tail = Buffer.alloc(0);
    const append = (chunk: Buffer) => {
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > keep) tail = tail.subarray(tail.length - keep);
    };
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let ending: "timed-out" | "aborted" | undefined;
    const killGroup = () => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      ending = "timed-out";
      killGroup();
    }, options.timeoutMs);
    const onAbort = () => {
      ending = "aborted";
      killGroup();
    };
    options.signal?.addEventListener("abort", onAbort, { once: true });
    child.stdout.on("data", append);
    child.stderr.on("data", append);
    const finish = (outcome: RunOutcome) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      resolve(outcome);
    };
    child.once("error", (err) =>
      finish({ kind: "spawn-failed", message: err.message, output: tail.toString("utf8") }),
    );
    child.once("close", (code, signal) => {
      const output = tail.toString("utf8");
      if (ending) finish({ kind: ending, output });
      else if (signal) finish({ kind: "killed", signal, output });
      else finish({ kind: "exited", code: code ?? 1, output });
    });
  });
}

/** "exited with code 2", "timed out after 600 s"… for messages. */
export function describeOutcome(outcome: RunOutcome, timeoutMs: number): string {
  switch (outcome.kind) {
    case "exited":
      return `exited with code ${outcome.code}`;
    case "killed":
      return `was killed by ${outcome.signal}`;
    case "timed-out":
      return `did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped`;
    case "aborted":
      return "was cancelled";
    case "spawn-failed":
      return `could not start: ${outcome.message}`;
  }
}
