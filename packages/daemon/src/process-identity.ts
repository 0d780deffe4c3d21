import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";

// A PID plus its kernel start time names one process for good: a recycled PID has another start
// time. Used for lock owners and the launcher's pid file.

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot). */
function startTimeOf(stat: string): string | undefined {
  // The command name (field 2) may contain spaces; the fields after its closing ")" are fixed.
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
}

/** Start time of a live process, or undefined when it is gone. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  try {
    return startTimeOf(await readFile(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/** Synchronous variant, for decisions taken inside a database transaction. */
export function processStartTimeSync(pid: number): string | undefined {
  try {
    return startTimeOf(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}
