import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { DaemonName } from "./registry.js";

// The local host launcher records what it supervises in <runDir>/launcher.json, so that
// `tako server status` and agentd can say why a daemon is down (e.g. "crash loop: gave up").

export type SupervisedState = "starting" | "running" | "restarting" | "failed" | "stopped";

export interface SupervisedDaemon {
  readonly state: SupervisedState;
  /** Restarts after crashes since the launcher started. */
  readonly restarts: number;
  /** Why the daemon is not running, when it is not. */
  readonly detail: string;
}

export interface LauncherState {
  readonly pid: number;
  readonly root: string;
  readonly startedAtUnixMs: number;
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly daemons: Readonly<Partial<Record<DaemonName, SupervisedDaemon>>>;
}

export const launcherStatePath = (runDir: string) => join(runDir, "launcher.json");
export const launcherPidPath = (runDir: string) => join(runDir, "launcher.pid");

export async function readLauncherState(runDir: string): Promise<LauncherState | undefined> {
  try {
    return JSON.parse(await readFile(launcherStatePath(runDir), "utf8")) as LauncherState;
  } catch {
    return undefined;
  }
}

/** Written to a temporary file and renamed, so readers never see half a file. */
export async function writeLauncherState(runDir: string, state: LauncherState): Promise<void> {
  const path = launcherStatePath(runDir);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, path);
}
