import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { waitFor } from "./wait.js";

export interface ServiceProcess {
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
 * The service runs under a small shell guard whose stdin is a pipe from this process: when the
 * pipe closes (stop(), or this process exiting in any way, even SIGKILL) the guard sends the
 * service SIGTERM. The guard itself exits with the service, so an early exit is seen at once.
 */
// (An asynchronous list's stdin is /dev/null in sh, hence the pipe is kept on fd 3 for `cat`.)
const GUARD = 'exec 3<&0; "$0" "$@" 3<&- & pid=$!; (cat <&3 >/dev/null; kill $pid 2>/dev/null) & wait $pid';
/** sh's status for a command it could not find. */
const NOT_FOUND = 127;

/**
 * Starts a server a test needs (pebble, named…) with its output in a file, waits until it
 * answers, and makes sure it stops. A missing binary fails the test naming the Debian package to
 * install; it never skips.
 */
export async function startServiceProcess(options: StartServiceOptions): Promise<ServiceProcess> {
  const fd = openSync(options.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn("sh", ["-c", GUARD, options.command, ...options.args], {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ["pipe", fd, fd],
      detached: true, // its own process group, so a lingering one can be killed as a whole
    });
  } finally {
    closeSync(fd);
  }
  child.stdin?.on("error", () => undefined);
  // Neither the guard nor its pipe keeps this process alive.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 5_000) => {
    stopping ??= (async () => {
      child.stdin?.end(); // also ends the guard's `cat` when the service already exited
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => {
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }, graceMs);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
  const readLog = () => readFile(options.logFile, "utf8").catch(() => "");
  const gaveUp = new AbortController();
  const failed = await Promise.race([
    exited.then(
      (code) => new Error(`${options.name} exited during startup (status ${code})`, { cause: code }),
    ),
    waitFor(async () => gaveUp.signal.aborted || (await options.ready()), {
      timeoutMs: options.readyTimeoutMs ?? 30_000,
      intervalMs: 100,
      what: `${options.name} to answer`,
    }).then(
      () => undefined,
      (err: Error) => err,
    ),
  ]);
  gaveUp.abort(); // ends the readiness polling if the process exited first
  if (failed) {
    await stop(1_000);
    throw new Error(
      failed.cause === NOT_FOUND
        ? `${options.command} is not installed: run \`npm test\` (scripts/setup.mjs installs the Debian package ${options.debianPackage})`
        : `${options.name} did not start: ${failed.message}\n${await readLog()}`,
      { cause: failed },
    );
  }
  return { logFile: options.logFile, readLog, stop };
}
