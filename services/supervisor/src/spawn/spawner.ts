import { spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { TakoError } from "@tako/errors";
import { ChildAppProcess, describeExit, type ProcessExit } from "../process/app-process.js";
import type { Release } from "../release.js";
import type { AppIdentity } from "./app-user.js";
import { type FifoPair, FifoPool } from "./fifo-pool.js";
import { OutputPipe, type OutputStream } from "./output-pipe.js";
import { StartupOutput } from "./startup-output.js";

export interface SpawnOptions {
  readonly release: Release;
  /** Absolute path of the JS module the SDK entrypoint imports (the compiled one for TS). */
  readonly entry: string;
  /** Absolute path of the SDK's server entrypoint. */
  readonly sdkEntrypoint: string;
  readonly instanceId: string;
  /** The complete environment (see instanceEnv). */
  readonly env: Record<string, string>;
  /** The fd 3 envelope. */
  readonly envelope: string;
  readonly identity: AppIdentity | undefined;
  readonly fifos: FifoPair;
  readonly onLine: (stream: OutputStream, text: string) => void;
  /** Both output pipes reached EOF (the process and anything it forked are gone). */
  readonly onOutputEnd: () => void;
  /** Aborting kills a process that is still starting. */
  readonly signal: AbortSignal;
}

export interface SpawnedInstance {
  readonly process: ChildAppProcess;
  readonly port: number;
  readonly outputs: readonly OutputPipe[];
}

type StartupFailure =
  | { kind: "exited"; exit: ProcessExit }
  | { kind: "closed" }
  | { kind: "invalid"; line: string }
  | { kind: "timeout" }
  | { kind: "aborted" };

/** Grace for the exit status to follow EOF on fd 4, so a crash is reported as an exit. */
const EXIT_AFTER_EOF_MS = 250;
/** How long to wait for the last output of a failed start. */
const OUTPUT_DRAIN_MS = 1000;

/**
 * Starts one app process under the spawn contract and resolves once it reported its port on
 * fd 4: clean environment, envelope on fd 3, stdout/stderr through FIFOs, its own process group,
 * the app's user when there is one. A process that exits, closes fd 4, reports garbage or misses
 * the startup timeout is killed, and the error carries its startup output.
 */
export async function spawnInstance(o: SpawnOptions): Promise<SpawnedInstance> {
  const output = new StartupOutput();
  let ended = 0;
  let allEnded: () => void = () => undefined;
  const outputEnded = new Promise<void>((resolve) => {
    allEnded = resolve;
  });
  const pipes: OutputPipe[] = [];
  const writers: number[] = [];
  const streams: [OutputStream, string][] = [
    ["out", o.fifos.out],
    ["err", o.fifos.err],
  ];
  const fail = (reason: "APP_START_FAILED" | "APP_START_TIMEOUT", message: string) =>
    new TakoError(
      reason,
      `${message}\n--- startup output of instance ${o.instanceId} ---\n${output.text()}`,
      {
        metadata: { app: o.release.app, env: o.release.env, instance: o.instanceId, output: output.text() },
      },
    );

  let child: ReturnType<typeof spawn>;
  try {
    for (const [stream, path] of streams) {
      pipes.push(
        new OutputPipe(
          path,
          (text) => {
            output.add(stream, text);
            o.onLine(stream, text);
          },
          () => {
            if (++ended === 2) {
              allEnded();
              o.onOutputEnd();
            }
          },
        ),
      );
      writers.push(OutputPipe.openWriter(path));
    }
    child = spawn(process.execPath, [o.sdkEntrypoint, o.entry], {
      cwd: o.release.releaseDir,
      env: o.env,
      stdio: ["ignore", writers[0], writers[1], "pipe", "pipe"],
      detached: true,
      ...(o.identity ? { uid: o.identity.uid, gid: o.identity.gid } : {}),
    });
  } catch (err) {
    for (const pipe of pipes) pipe.close();
    FifoPool.remove(o.fifos);
    throw fail("APP_START_FAILED", `could not start the app: ${(err as Error).message}`);
  } finally {
    for (const fd of writers) OutputPipe.closeWriter(fd);
  }

  if (child.pid === undefined) {
    const err = await new Promise<Error>((resolve) => child.once("error", resolve));
    for (const pipe of pipes) pipe.close();
    FifoPool.remove(o.fifos);
    throw fail("APP_START_FAILED", `could not start the app: ${err.message}`);
  }
  child.on("error", () => undefined); // reported through the exit status
  const proc = new ChildAppProcess(child);
  const fd3 = child.stdio[3] as Writable;
  const fd4 = child.stdio[4] as Readable;
  fd3.on("error", () => undefined); // the process died before reading: reported as its exit
  fd4.on("error", () => undefined);
  fd3.end(o.envelope);

  const result = await readiness(fd4, proc, o.release.startupTimeoutMs, o.signal);
  fd4.destroy();
  fd3.destroy();
  if (typeof result === "number") {
    output.stop();
    return { process: proc, port: result, outputs: pipes };
  }

  proc.signal("SIGKILL");
  const exit = await proc.exited;
  await Promise.race([outputEnded, new Promise((r) => setTimeout(r, OUTPUT_DRAIN_MS))]);
  for (const pipe of pipes) pipe.close();
  FifoPool.remove(o.fifos);
  switch (result.kind) {
    case "exited":
      throw fail("APP_START_FAILED", `the app exited during startup (${describeExit(exit)})`);
    case "closed":
      throw fail("APP_START_FAILED", "the app closed its readiness pipe (fd 4) before reporting a port");
    case "invalid":
      throw fail(
        "APP_START_FAILED",
        `the app reported an invalid port on fd 4: ${JSON.stringify(result.line.slice(0, 40))}`,
      );
    case "timeout":
      throw fail(
        "APP_START_TIMEOUT",
        `the app did not report readiness on fd 4 within ${o.release.startupTimeoutMs} ms`,
      );
    case "aborted":
      throw new TakoError("CANCELED", `the start of instance ${o.instanceId} was cancelled`);
  }
}

/** Waits for "<port>\n" on fd 4, event-driven; resolves with the port or the failure. */
function readiness(
  fd4: Readable,
  proc: ChildAppProcess,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<number | StartupFailure> {
  return new Promise((resolve) => {
    let buffered = "";
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const settle = (value: number | StartupFailure) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      fd4.removeAllListeners("data");
      signal.removeEventListener("abort", onAbort);
      resolve(value);
    };
    const onAbort = () => settle({ kind: "aborted" });
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    timers.push(setTimeout(() => settle({ kind: "timeout" }), timeoutMs));
    void proc.exited.then((exit) => settle({ kind: "exited", exit }));
    fd4.setEncoding("utf8");
    fd4.on("data", (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf("\n");
      if (nl === -1) {
        if (buffered.length > 64) settle({ kind: "invalid", line: buffered });
        return;
      }
      const line = buffered.slice(0, nl).trim();
      const port = /^[0-9]{1,5}$/.test(line) ? Number(line) : 0;
      settle(port >= 1 && port <= 65535 ? port : { kind: "invalid", line });
    });
    fd4.once("end", () => {
      timers.push(setTimeout(() => settle({ kind: "closed" }), EXIT_AFTER_EOF_MS));
    });
  });
}
