// JSON-line logs on stdout, for journald: a constant message and variable fields.

export type LogLevel = "debug" | "info" | "warn" | "error";
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  readonly fields?: LogFields;
  readonly level?: LogLevel;
  /** Where lines go; default process.stdout. */
  readonly write?: (line: string) => void;
  readonly now?: () => Date;
}

function encode(value: unknown): unknown {
  if (value instanceof Error) {
    const reason = (value as { reason?: unknown }).reason;
    return { message: value.message, ...(reason ? { reason } : {}), stack: value.stack };
  }
  return value;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LEVELS[options.level ?? "info"];
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const now = options.now ?? (() => new Date());
  const base = options.fields ?? {};
  const emit = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (LEVELS[level] < threshold) return;
    const record: Record<string, unknown> = { ts: now().toISOString(), level, msg, ...base };
    if (fields) for (const [k, v] of Object.entries(fields)) if (v !== undefined) record[k] = encode(v);
    write(`${JSON.stringify(record)}\n`);
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}
