import { AppState, type AppStatus, InstanceState } from "@tako/proto";
import { formatDuration } from "./server-info.js";
import { formatTable } from "./table.js";

const APP_STATES: Record<AppState, string> = {
  [AppState.UNSPECIFIED]: "unknown",
  [AppState.RUNNING]: "running",
  [AppState.IDLE]: "idle",
  [AppState.DEPLOYING]: "deploying",
  [AppState.STOPPED]: "stopped",
  [AppState.ERROR]: "error",
};

const INSTANCE_STATES: Record<InstanceState, string> = {
  [InstanceState.UNSPECIFIED]: "unknown",
  [InstanceState.STARTING]: "starting",
  [InstanceState.READY]: "ready",
  [InstanceState.HEALTHY]: "healthy",
  [InstanceState.UNHEALTHY]: "unhealthy",
  [InstanceState.DRAINING]: "draining",
  [InstanceState.STOPPED]: "stopped",
};

/** A deployment on a server, or an app/env the server has never had. */
export type StatusRow =
  | { readonly server: string; readonly status: AppStatus }
  | { readonly server: string; readonly missing: { readonly app: string; readonly env: string } };

/** One row per app deployment per server, then each instance indented; errors last. */
export function formatAppStatuses(rows: readonly StatusRow[], nowMs = Date.now()): string {
  if (rows.length === 0) return "No apps deployed.";
  const table: string[][] = [];
  const problems: string[] = [];
  for (const row of rows) {
    const server = row.server;
    if ("missing" in row) {
      table.push([server, `${row.missing.app}/${row.missing.env}`, "not deployed", "-", "-", ""]);
      continue;
    }
    const s = row.status;
    const healthy = s.instances.filter((i) => i.state === InstanceState.HEALTHY).length;
    table.push([
      server,
      `${s.app}/${s.env}`,
      APP_STATES[s.state] ?? "unknown",
      s.version || "-",
      `${healthy}/${s.desiredInstances}`,
      s.routes.join(" "),
    ]);
    for (const i of s.instances) {
      const age = i.startedAtUnixMs ? formatDuration(nowMs - Number(i.startedAtUnixMs)) : "-";
      table.push([
        "",
        `  ${i.id}`,
        INSTANCE_STATES[i.state] ?? "unknown",
        i.version,
        `pid ${i.pid || "-"}`,
        `up ${age}`,
      ]);
    }
    if (s.lastError) problems.push(`${server} ${s.app}/${s.env}: ${s.lastError}`);
  }
  const text = formatTable(["SERVER", "APP", "STATE", "VERSION", "HEALTHY", "ROUTES"], table);
  return problems.length ? `${text}\n\n${problems.join("\n")}` : text;
}
