import { randomBytes } from "node:crypto";
import { lstat, mkdir, readdir, readFile, readlink, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "@tako/daemon";
import { isErrno, swapSymlink } from "@tako/rpc";
import { DEFAULT_CERT_KEY } from "../names/cert-host.js";
import { describeChain } from "../tls/certificate-pem.js";
import type { KeyAndChain } from "../tls/self-signed.js";
import { syncDirectory, writeFileAtomic } from "./atomic-file.js";
import {
  type CertificateMeta,
  type CertificateRecord,
  parseMeta,
  serializeMeta,
} from "./certificate-record.js";
import { watchDirectory } from "./directory-watch.js";
import { Listeners } from "./listeners.js";
import { Mutex } from "./mutex.js";

export type CertificateChange =
  | { readonly type: "upsert"; readonly record: CertificateRecord }
  | { readonly type: "remove"; readonly record: CertificateRecord };

const GENERATION_PREFIX = ".gen-";
/** An unreferenced generation younger than this may belong to a write in progress elsewhere. */
const ORPHAN_AGE_MS = 60_000;
const FULLCHAIN = "fullchain.pem";
const PRIVKEY = "privkey.pem";
const METADATA = "metadata.json";

export interface CertificateStoreOptions {
  /** The certificates directory (paths.certsDir), mode 0700. */
  readonly dir: string;
  readonly log: Logger;
  readonly now?: () => number;
}

/**
 * Certificates on disk, one entry per host:
 *   <dir>/<key> → .gen-<id>/{fullchain.pem, privkey.pem (0600), metadata.json}
 * Every write creates a new generation directory, fsyncs it and swaps the <key> symlink to it,
 * so the key, the chain and the metadata always change together, and a crash leaves either the
 * old entry or the new one. The store keeps a cache of every entry, announces each change to its
 * listeners, and rescans when the directory changes: the predecessor of a reload may still be
 * writing while its successor serves.
 */
export class CertificateStore {
  readonly #dir: string;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #cache = new Map<string, CertificateRecord>();
  readonly #listeners: Listeners<CertificateChange>;
  readonly #mutex = new Mutex();
  #stopWatching: (() => Promise<void>) | undefined;

  constructor(options: CertificateStoreOptions) {
    this.#dir = options.dir;
    this.#log = options.log;
    this.#listeners = new Listeners(options.log);
    this.#now = options.now ?? Date.now;
  }

  get dir(): string {
    return this.#dir;
  }

  /** Loads every entry, removes leftovers of interrupted writes, and follows later changes. */
  async open(): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await this.refresh();
    await this.#removeOrphans();
    this.#stopWatching ??= watchDirectory({
      dir: this.#dir,
      onChange: () => this.refresh(),
      onError: (err) => this.#log.warn("certificate directory watch failed", { error: err }),
    });
  }

  async close(): Promise<void> {
    await this.#stopWatching?.();
    this.#stopWatching = undefined;
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: (change: CertificateChange) => void): () => void {
    return this.#listeners.add(listener);
  }

  get(key: string): CertificateRecord | undefined {
    return this.#cache.get(key);
  }

  all(): CertificateRecord[] {
    return [...this.#cache.values()].sort((a, b) => a.meta.key.localeCompare(b.meta.key));
  }

  /** Stores a new certificate (and key) with its metadata. Durable when it resolves. */
  saveIssued(meta: CertificateMeta, keyAndChain: KeyAndChain): Promise<CertificateRecord> {
    const facts = describeChain(keyAndChain.chainPem, keyAndChain.keyPem);
    return this.#mutex.run(() => this.#write(meta, { ...keyAndChain, facts }));
  }

  /** Updates the metadata only, keeping the certificate in use (or the pending state). */
  saveMeta(meta: CertificateMeta): Promise<CertificateRecord> {
    return this.#mutex.run(async () => {
      const current = this.#cache.get(meta.key);
      return this.#write(meta, current?.state === "issued" ? current.cert : undefined);
    });
  }

  /** Re-reads the directory and announces what changed since the last look. */
  refresh(): Promise<void> {
    return this.#mutex.run(async () => {
      const links = new Map<string, string>();
      for (const entry of await readdir(this.#dir, { withFileTypes: true })) {
        if (!entry.isSymbolicLink()) continue;
        const target = await readlink(join(this.#dir, entry.name)).catch(() => "");
        if (target.startsWith(GENERATION_PREFIX)) links.set(entry.name, target);
      }
      for (const [key, generation] of links) {
        if (this.#cache.get(key)?.generation === generation) continue;
        const record = await this.#read(key, generation);
        if (record) this.#set(record);
      }
      for (const [key, record] of [...this.#cache]) {
        if (links.has(key)) continue;
        this.#cache.delete(key);
        this.#listeners.emit({ type: "remove", record });
      }
    });
  }

  async #write(
    meta: CertificateMeta,
    cert: (KeyAndChain & { facts: ReturnType<typeof describeChain> }) | undefined,
  ): Promise<CertificateRecord> {
    const generation = `${GENERATION_PREFIX}${this.#now().toString(36)}-${randomBytes(4).toString("hex")}`;
    const genDir = join(this.#dir, generation);
    await mkdir(genDir, { mode: 0o700 });
    try {
      if (cert) {
        await writeFileAtomic(join(genDir, PRIVKEY), cert.keyPem, 0o600);
        await writeFileAtomic(join(genDir, FULLCHAIN), cert.chainPem, 0o644);
      }
      await writeFileAtomic(join(genDir, METADATA), serializeMeta(meta, cert?.facts), 0o644);
      await syncDirectory(genDir);
      const previous = await readlink(join(this.#dir, meta.key)).catch(() => undefined);
      await swapSymlink(join(this.#dir, meta.key), genDir);
      await syncDirectory(this.#dir);
      if (previous?.startsWith(GENERATION_PREFIX) && previous !== generation) {
        await rm(join(this.#dir, previous), { recursive: true, force: true });
      }
    } catch (err) {
      await rm(genDir, { recursive: true, force: true });
      throw err;
    }
    const record: CertificateRecord = cert
      ? { state: "issued", meta, cert, generation }
      : { state: "pending", meta, generation };
    this.#set(record);
    return record;
  }

  async #read(key: string, generation: string): Promise<CertificateRecord | undefined> {
    const genDir = join(this.#dir, generation);
    try {
      const meta = parseMeta(await readFile(join(genDir, METADATA), "utf8"));
      if (meta.key !== key) throw new Error(`metadata is for "${meta.key}"`);
      const fixed = { ...meta, isDefault: key === DEFAULT_CERT_KEY };
      const chainPem = await readFile(join(genDir, FULLCHAIN), "utf8").catch((err: unknown) => {
        if (isErrno(err, "ENOENT")) return undefined;
        throw err;
      });
      if (chainPem === undefined) return { state: "pending", meta: fixed, generation };
      const keyPem = await readFile(join(genDir, PRIVKEY), "utf8");
      const facts = describeChain(chainPem, keyPem);
      return { state: "issued", meta: fixed, cert: { chainPem, keyPem, facts }, generation };
    } catch (err) {
      // Replaced by another process between readlink and read: the next rescan reads the new one.
      if (isErrno(err, "ENOENT")) return undefined;
      this.#log.error("unreadable certificate entry; ignoring it", {
        key,
        generation,
        error: (err as Error).message,
      });
      return undefined;
    }
  }

  #set(record: CertificateRecord): void {
    this.#cache.set(record.meta.key, record);
    this.#listeners.emit({ type: "upsert", record });
  }

  /** Generations no entry points at, left by a crash mid-write (old enough not to be in progress). */
  async #removeOrphans(): Promise<void> {
    const referenced = new Set<string>();
    const entries = await readdir(this.#dir, { withFileTypes: true });
    for (const entry of entries) {
      if (entry.isSymbolicLink()) referenced.add(await readlink(join(this.#dir, entry.name)).catch(() => ""));
    }
    for (const entry of entries) {
      if (!entry.isDirectory() || !entry.name.startsWith(GENERATION_PREFIX) || referenced.has(entry.name))
        continue;
      const path = join(this.#dir, entry.name);
      const info = await stat(path).catch(() => undefined);
      if (info && this.#now() - info.mtimeMs > ORPHAN_AGE_MS) {
        await rm(path, { recursive: true, force: true });
        this.#log.info("removed an unfinished certificate write", { generation: entry.name });
      }
    }
    // Temporary symlinks of an interrupted swap.
    for (const entry of entries) {
      if (entry.name.startsWith(".") && entry.name.endsWith(".tmp")) {
        const info = await lstat(join(this.#dir, entry.name)).catch(() => undefined);
        if (info && this.#now() - info.mtimeMs > ORPHAN_AGE_MS) {
          await rm(join(this.#dir, entry.name), { force: true });
        }
      }
    }
  }
}
