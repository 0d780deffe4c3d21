import { read } from "node:fs";
import { promisify } from "node:util";
import type { LogSnapshot } from "./app-log.js";
import { type LogLine, parseLogLine } from "./log-line.js";

const readAsync = promisify(read);

async function readFd(fd: number | undefined, limitBytes: number): Promise<string> {
  if (fd === undefined) return "";
  const chunks: Buffer[] = [];
  let position = 0;
  while (position < limitBytes) {
    const buf = Buffer.allocUnsafe(Math.min(1024 * 1024, limitBytes - position));
    const { bytesRead } = await readAsync(fd, buf, 0, buf.length, position);
    if (bytesRead === 0) break;
    chunks.push(buf.subarray(0, bytesRead));
    position += bytesRead;
  }
  return Buffer.concat(chunks).toString("utf8");
}

export interface HistoryQuery {
  /** Only lines at or after this time (ms); 0 for all. */
  readonly sinceMs: number;
  /** At most this many of the most recent lines; 0 for no limit. */
  readonly tailLines: number;
}

/** The lines of a log snapshot (previous.log, then current.log), filtered as asked. */
export async function readHistory(snapshot: LogSnapshot, query: HistoryQuery): Promise<LogLine[]> {
  const text =
    (await readFd(snapshot.previousFd, Number.POSITIVE_INFINITY)) +
    (await readFd(snapshot.currentFd, snapshot.currentBytes));
  const lines: LogLine[] = [];
  for (const raw of text.split("\n")) {
    const line = parseLogLine(raw);
    if (line && line.timeMs >= query.sinceMs) lines.push(line);
  }
  return query.tailLines > 0 ? lines.slice(-query.tailLines) : lines;
}
