import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { waitFor } from "./wait.js";

export interface ServiceProcess {
  readonly pid: number;
  readonly logFile: string;
  readonly readLog: () => Promise<string>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartServiceOptions {
  /** What the service is, for error messages ("pebble", "named"). */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** stdout and stderr go here. */
  readonly logFile: string;
  /** Resolves truthy once the service answers. */
  readonly ready: () => Promise<boolean>;
  readonly readyTimeoutMs?: number;
  /** The Debian package providing `command`, named when it is missing. */
  readonly debianPackage: string;
}

/**
 * Starts a server a test needs (pebble, named…) as a child process with its output in a file,
 * waits until it answers, and stops it for sure: also when the test process exits abruptly.
 * A missing binary fails the test with the package to install; it never skips.
 */
export async function startServiceProcess(options: StartServiceOptions): Promise<ServiceProcess> {
  const fd = openSync(options.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(options.command, [...options.args], {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ["ignore", fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 5_000) => {
    stopping ??= (async () => {
      process.off("exit", killOnExit);
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
    })();
    return stopping;
  };
  const readLog = () => readFile(options.logFile, "utf8").catch(() => "");
  const failed = await Promise.race([
    spawnError.then((err) => err),
    exited.then(() => new Error(`${options.name} exited during startup`)),
    waitFor(options.ready, {
      timeoutMs: options.readyTimeoutMs ?? 30_000,
      intervalMs: 100,
      what: `${options.name} to answer`,
    }).then(
      () => undefined,
      (err: Error) => err,
    ),
  ]);
  if (failed) {
    await stop(1_000);
    const missing = (failed as NodeJS.ErrnoException).code === "ENOENT";
    throw new Error(
      missing
        ? `${options.command} is not installed: run \`npm test\` (scripts/setup.mjs installs the Debian package ${options.debianPackage})`
        : `${options.name} did not start: ${failed.message}\n${await readLog()}`,
      { cause: failed },
    );
  }
  return { pid: child.pid ?? 0, logFile: options.logFile, readLog, stop };
}
