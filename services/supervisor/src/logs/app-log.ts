import { closeSync, fstatSync, openSync } from "node:fs";
import { type FileHandle, open, rename } from "node:fs/promises";
import { join } from "node:path";
import { formatLogLine, type LogLine } from "./log-line.js";

export const LOG_ROTATE_BYTES = 10 * 1024 * 1024;
/** Lines waiting to be written; past this, new lines are dropped (writing never blocks the supervisor). */
const MAX_PENDING_LINES = 8192;

function openOrUndefined(path: string): number | undefined {
  try {
    return openSync(path, "r");
  } catch {
    return undefined;
  }
}

/** File descriptors of the log files as they were at one moment, for reading history. */
export interface LogSnapshot {
  readonly previousFd: number | undefined;
  readonly currentFd: number | undefined;
  /** Bytes of current.log that existed at that moment (later lines reach followers instead). */
  readonly currentBytes: number;
}

/**
 * The log of one {app}/{env}: `current.log`, renamed to `previous.log` once it reaches 10 MiB.
 * Lines are queued and written in batches; followers get each line as it is accepted.
 */
export class AppLog {
  readonly dir: string;
  readonly #rotateBytes: number;
  #pending: string[] = [];
  #handle: FileHandle | undefined;
  #bytes = 0;
  #writing: Promise<void> = Promise.resolve();
  #scheduled = false;
  #dropped = 0;
  readonly #followers = new Set<(line: LogLine) => void>();

  constructor(dir: string, rotateBytes = LOG_ROTATE_BYTES) {
    this.dir = dir;
    this.#rotateBytes = rotateBytes;
  }

  get currentPath(): string {
    return join(this.dir, "current.log");
  }

  get previousPath(): string {
    return join(this.dir, "previous.log");
  }

  append(line: LogLine): void {
    for (const follower of this.#followers) follower(line);
    if (this.#pending.length >= MAX_PENDING_LINES) {
      this.#dropped++;
      return;
    }
    this.#pending.push(formatLogLine(line));
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.#writing = this.#writing.then(() => this.#write());
      });
    }
  }

  /** Resolves once every line accepted so far is in the file. */
  async flush(): Promise<void> {
    this.#writing = this.#writing.then(() => this.#write());
    await this.#writing;
  }

  /**
   * Writes everything pending, then pins the files as they are now and adds `follower`, in one
   * step with no write in between: history read from the snapshot plus the follower's lines give
   * every line exactly once.
   */
  follow(
    follower: ((line: LogLine) => void) | undefined,
  ): Promise<{ snapshot: LogSnapshot; stop: () => void }> {
    const result = this.#writing.then(async () => {
      while (this.#pending.length > 0) await this.#write();
      const previousFd = openOrUndefined(this.previousPath);
      const currentFd = openOrUndefined(this.currentPath);
      const snapshot: LogSnapshot = {
        previousFd,
        currentFd,
        currentBytes: currentFd === undefined ? 0 : fstatSync(currentFd).size,
      };
      if (follower) this.#followers.add(follower);
      return {
        snapshot,
        stop: () => {
          if (follower) this.#followers.delete(follower);
        },
      };
    });
    this.#writing = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  static closeSnapshot(snapshot: LogSnapshot): void {
    for (const fd of [snapshot.previousFd, snapshot.currentFd]) if (fd !== undefined) closeSync(fd);
  }

  async close(): Promise<void> {
    await this.flush();
    await this.#handle?.close();
    this.#handle = undefined;
  }

  async #write(): Promise<void> {
    if (this.#pending.length === 0) return;
    const batch = this.#pending.join("");
    this.#pending = [];
    if (this.#dropped > 0) {
      const note = formatLogLine({
        timeMs: Date.now(),
        source: "server",
        instanceId: "",
        text: `${this.#dropped} log lines were dropped: the app wrote faster than they could be stored`,
      });
      this.#dropped = 0;
      await this.#writeText(note);
    }
    await this.#writeText(batch);
  }

  async #writeText(text: string): Promise<void> {
    try {
      if (!this.#handle) {
        this.#handle = await open(this.currentPath, "a", 0o600);
        this.#bytes = (await this.#handle.stat()).size;
      }
      const buf = Buffer.from(text);
      await this.#handle.write(buf);
      this.#bytes += buf.length;
      if (this.#bytes >= this.#rotateBytes) {
        await this.#handle.close();
        this.#handle = undefined;
        await rename(this.currentPath, this.previousPath);
      }
    } catch {
      // The log directory went away (the app was purged) or the disk is full: lines are lost,
      // the app keeps running.
      await this.#handle?.close().catch(() => undefined);
      this.#handle = undefined;
    }
  }
}
