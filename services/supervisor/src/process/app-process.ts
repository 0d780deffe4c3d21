import type { ChildProcess } from "node:child_process";
import { isSameLiveProcess, readProcStat } from "./proc-stat.js";

export interface ProcessExit {
  /** Exit code; null when killed by a signal or when the status is unknown. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** False for an adopted process: only its parent (a previous supervisor) learned the status. */
  readonly known: boolean;
}

/**
 * One app process, spawned by this supervisor generation (a child) or adopted from a previous
 * one after a reload (not our child: we learn that it exited by watching /proc). Apps run in
 * their own process group, so signals reach any children they started too.
 */
export interface AppProcess {
  readonly pid: number;
  /** Start time in clock ticks since boot: with the PID, identifies the process across reloads. */
  readonly startTicks: string;
  readonly exited: Promise<ProcessExit>;
  readonly hasExited: boolean;
  /** Sends a signal to the process group; a process that is already gone is ignored. */
  signal(signal: NodeJS.Signals): void;
  /** Looks at once whether the process is gone (adopted processes; a child reports itself). */
  check(): void;
  /** Stops watching (the process keeps running; a successor adopts it). */
  release(): void;
}

export function describeExit(exit: ProcessExit): string {
  if (!exit.known) return "exit status unknown: adopted after a supervisor reload";
  return exit.signal ? `terminated by ${exit.signal}` : `exit code ${exit.code}`;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export class ChildAppProcess implements AppProcess {
  readonly pid: number;
  readonly startTicks: string;
  readonly exited: Promise<ProcessExit>;
  #exited = false;

  constructor(child: ChildProcess) {
    if (child.pid === undefined) throw new Error("the child process has no pid");
    this.pid = child.pid;
    this.startTicks = readProcStat(child.pid)?.startTicks ?? "";
    this.exited = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        this.#exited = true;
        resolve({ code, signal, known: true });
      };
      if (child.exitCode !== null || child.signalCode !== null) done(child.exitCode, child.signalCode);
      else child.once("exit", done);
    });
  }

  get hasExited(): boolean {
    return this.#exited;
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.#exited) signalGroup(this.pid, signal);
  }

  check(): void {}

  release(): void {}
}

/** How often an adopted process is looked at (it is not our child: no exit event arrives). */
const ADOPTED_POLL_MS = 200;

export class AdoptedAppProcess implements AppProcess {
  readonly pid: number;
  readonly startTicks: string;
  readonly exited: Promise<ProcessExit>;
  #exited = false;
  #resolve: ((exit: ProcessExit) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(pid: number, startTicks: string) {
    this.pid = pid;
    this.startTicks = startTicks;
    this.exited = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    this.#timer = setInterval(() => this.check(), ADOPTED_POLL_MS);
    this.#timer.unref();
    this.check();
  }

  get hasExited(): boolean {
    return this.#exited;
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.#exited && isSameLiveProcess(this.pid, this.startTicks)) signalGroup(this.pid, signal);
  }

  check(): void {
    if (this.#exited || isSameLiveProcess(this.pid, this.startTicks)) return;
    this.#exited = true;
    this.release();
    this.#resolve?.({ code: null, signal: null, known: false });
  }

  release(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
