import { readFileSync } from "node:fs";

/** What /proc/<pid>/stat says about a process: its state letter and start time in clock ticks. */
export interface ProcStat {
  readonly state: string;
  readonly startTicks: string;
}

/** Reads /proc/<pid>/stat; undefined when the process does not exist. */
export function readProcStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: fields resume after the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const state = fields[0];
  const startTicks = fields[19]; // field 22 overall
  if (state === undefined || startTicks === undefined) return undefined;
  return { state, startTicks };
}

/** True while `pid` is the same live process (not a zombie, not a reused PID). */
export function isSameLiveProcess(pid: number, startTicks: string): boolean {
  const stat = readProcStat(pid);
  return stat !== undefined && stat.state !== "Z" && stat.state !== "X" && stat.startTicks === startTicks;
}
