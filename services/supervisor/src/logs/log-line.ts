// One line of an app's log file: `<ISO-8601 UTC with ms> [out|err|server] [<instance>|-] <text>`,
// e.g. `2026-11-21T14:31:31.123Z [err] [k3j9x0qa] listening`. Lines Tako writes about the app
// are `[server]`; `-` stands for "the whole app" rather than one instance.

export type LogSource = "out" | "err" | "server";

export interface LogLine {
  readonly timeMs: number;
  readonly source: LogSource;
  /** "" for a server line about the whole app. */
  readonly instanceId: string;
  readonly text: string;
}

export function formatLogLine(line: LogLine): string {
  return `${new Date(line.timeMs).toISOString()} [${line.source}] [${line.instanceId || "-"}] ${line.text}\n`;
}

const PATTERN = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) \[(out|err|server)\] \[([^\]\s]*)\] (.*)$/s;

/** Parses one line (without its newline); undefined for anything not in the format. */
export function parseLogLine(text: string): LogLine | undefined {
  const m = PATTERN.exec(text);
  if (!m) return undefined;
  const timeMs = Date.parse(m[1] as string);
  if (Number.isNaN(timeMs)) return undefined;
  return {
    timeMs,
    source: m[2] as LogSource,
    instanceId: m[3] === "-" ? "" : (m[3] as string),
    text: m[4] as string,
  };
}
