import { mkdir, readdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "@tako/daemon";
import { isErrno } from "@tako/rpc";
import { writeFileAtomic } from "./atomic-file.js";
import { watchDirectory } from "./directory-watch.js";
import { Listeners } from "./listeners.js";
import { Mutex } from "./mutex.js";

/** A pending HTTP-01 challenge: the edge answers GET /.well-known/acme-challenge/<token> with it. */
export interface PendingChallenge {
  readonly token: string;
  readonly keyAuthorization: string;
  /** The host being validated, for logs. */
  readonly host: string;
  /** The certd process whose order it belongs to. */
  readonly pid: number;
}

export type ChallengeChange =
  | { readonly type: "add"; readonly challenge: PendingChallenge }
  | { readonly type: "remove"; readonly token: string };

/** RFC 8555 tokens are base64url (43 chars from real CAs); anything else never becomes a file name. */
const TOKEN = /^[A-Za-z0-9_-]{16,200}$/;

export function isValidToken(token: string): boolean {
  return TOKEN.test(token);
}

function isPending(value: unknown): value is PendingChallenge {
  const v = value as Record<string, unknown>;
  return (
    typeof v === "object" &&
    v !== null &&
    typeof v.token === "string" &&
    isValidToken(v.token) &&
    typeof v.keyAuthorization === "string" &&
    typeof v.host === "string" &&
    typeof v.pid === "number"
  );
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, "EPERM");
  }
}

/**
 * Pending HTTP-01 challenges, one file each under <certs>/acme/challenges. On disk rather than in
 * memory so that, during a reload, the successor streams the challenges of an order its
 * predecessor is still completing. Files of dead processes are removed on open.
 */
export class ChallengeStore {
  readonly #dir: string;
  readonly #log: Logger;
  readonly #cache = new Map<string, PendingChallenge>();
  readonly #listeners: Listeners<ChallengeChange>;
  readonly #mutex = new Mutex();
  #stopWatching: (() => Promise<void>) | undefined;

  constructor(options: { readonly dir: string; readonly log: Logger }) {
    this.#dir = options.dir;
    this.#log = options.log;
    this.#listeners = new Listeners(options.log);
  }

  async open(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(this.#dir)) {
      if (!name.endsWith(".json")) continue;
      const challenge = await this.#readFile(name);
      if (!challenge || (challenge.pid !== process.pid && !processAlive(challenge.pid))) {
        await unlink(join(this.#dir, name)).catch(() => undefined);
      }
    }
    await this.refresh();
    this.#stopWatching ??= watchDirectory({
      dir: this.#dir,
      onChange: () => this.refresh(),
      onError: (err) => this.#log.warn("challenge directory watch failed", { error: err }),
    });
  }

  async close(): Promise<void> {
    await this.#stopWatching?.();
    this.#stopWatching = undefined;
  }

  onChange(listener: (change: ChallengeChange) => void): () => void {
    return this.#listeners.add(listener);
  }

  all(): PendingChallenge[] {
    return [...this.#cache.values()];
  }

  /** Publishes a challenge; durable (visible to every certd process) when it resolves. */
  add(challenge: Omit<PendingChallenge, "pid">): Promise<void> {
    if (!isValidToken(challenge.token)) {
      return Promise.reject(
        new Error(`the CA sent a malformed HTTP-01 token (${challenge.token.length} chars)`),
      );
    }
    const full: PendingChallenge = { ...challenge, pid: process.pid };
    return this.#mutex.run(async () => {
      await writeFileAtomic(join(this.#dir, `${full.token}.json`), `${JSON.stringify(full)}\n`, 0o600);
      this.#cache.set(full.token, full);
      this.#listeners.emit({ type: "add", challenge: full });
    });
  }

  remove(token: string): Promise<void> {
    if (!isValidToken(token)) return Promise.resolve();
    return this.#mutex.run(async () => {
      await unlink(join(this.#dir, `${token}.json`)).catch((err: unknown) => {
        if (!isErrno(err, "ENOENT")) throw err;
      });
      if (this.#cache.delete(token)) this.#listeners.emit({ type: "remove", token });
    });
  }

  refresh(): Promise<void> {
    return this.#mutex.run(async () => {
      const seen = new Set<string>();
      for (const name of await readdir(this.#dir)) {
        if (!name.endsWith(".json")) continue;
        const token = name.slice(0, -".json".length);
        if (!isValidToken(token)) continue;
        seen.add(token);
        if (this.#cache.has(token)) continue;
        const challenge = await this.#readFile(name);
        if (challenge) {
          this.#cache.set(token, challenge);
          this.#listeners.emit({ type: "add", challenge });
        }
      }
      for (const token of [...this.#cache.keys()]) {
        if (seen.has(token)) continue;
        this.#cache.delete(token);
        this.#listeners.emit({ type: "remove", token });
      }
    });
  }

  async #readFile(name: string): Promise<PendingChallenge | undefined> {
    try {
      const parsed: unknown = JSON.parse(await readFile(join(this.#dir, name), "utf8"));
      return isPending(parsed) && `${parsed.token}.json` === name ? parsed : undefined;
    } catch (err) {
      if (!isErrno(err, "ENOENT")) this.#log.warn("unreadable challenge file", { file: name });
      return undefined;
    }
  }
}
