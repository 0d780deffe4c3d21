import type { ServerInfoResponse } from "@tako/proto";
import { ServingStatus } from "@tako/proto";
import { formatTable } from "./table.js";

const STATUS_WORDS: Record<ServingStatus, string> = {
  [ServingStatus.UNSPECIFIED]: "unknown",
  [ServingStatus.STARTING]: "starting",
  [ServingStatus.SERVING]: "serving",
  [ServingStatus.DRAINING]: "draining",
  [ServingStatus.NOT_SERVING]: "not serving",
  [ServingStatus.UNREACHABLE]: "down",
};

export function statusWord(status: ServingStatus): string {
  return STATUS_WORDS[status] ?? "unknown";
}

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, "0")}h`;
}

/** A table of the host's daemons, then any daemon's reason for not serving. */
export function formatServerInfo(info: ServerInfoResponse): string {
  const header = `Tako ${info.version} on ${info.hostname} · root ${info.rootDir} · HTTP :${info.httpPort} HTTPS :${info.httpsPort}`;
  const rows = info.daemons.map((d) => [
    d.name,
    statusWord(d.status),
    d.pid ? String(d.pid) : "-",
    d.pid ? formatDuration(Number(d.uptimeMs)) : "-",
    d.socketPath,
  ]);
  const table = formatTable(["DAEMON", "STATUS", "PID", "UPTIME", "SOCKET"], rows)
    .split("\n")
    .map((line) => `  ${line}`);
  const problems = info.daemons
    .filter((d) => d.status !== ServingStatus.SERVING && d.detail)
    .map((d) => `  ${d.name}: ${d.detail}`);
  return [header, ...table, ...(problems.length ? ["", ...problems] : [])].join("\n");
}
