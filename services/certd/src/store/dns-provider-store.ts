import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { isErrno } from "@tako/rpc";
import type { DnsProviderConfig } from "../dns/dns-provider-config.js";
import { isTsigAlgorithm } from "../dns/tsig.js";
import { writeFileAtomic } from "./atomic-file.js";
import { Mutex } from "./mutex.js";

const VERSION = 1;

function isConfig(value: unknown): value is DnsProviderConfig {
  const v = value as Record<string, unknown>;
  if (typeof v !== "object" || v === null || typeof v.zone !== "string") return false;
  if (v.kind === "cloudflare") return typeof v.apiToken === "string" && typeof v.zoneId === "string";
  if (v.kind === "rfc2136") {
    return (
      typeof v.server === "string" &&
      typeof v.tsigKeyName === "string" &&
      typeof v.tsigSecret === "string" &&
      typeof v.tsigAlgorithm === "string" &&
      isTsigAlgorithm(v.tsigAlgorithm)
    );
  }
  return false;
}

/**
 * DNS-01 credentials per zone in one file, mode 0600 (it holds API tokens and TSIG secrets).
 * Read on every use, so all certd processes of a reload agree on it.
 */
export class DnsProviderStore {
  readonly #path: string;
  readonly #mutex = new Mutex();

  constructor(path: string) {
    this.#path = path;
  }

  async all(): Promise<DnsProviderConfig[]> {
    let text: string;
    try {
      text = await readFile(this.#path, "utf8");
    } catch (err) {
      if (isErrno(err, "ENOENT")) return [];
      throw err;
    }
    const raw = JSON.parse(text) as { version?: unknown; zones?: unknown };
    if (raw.version !== VERSION || !Array.isArray(raw.zones)) {
      throw new Error(`${this.#path} is not a certd DNS provider file (version ${VERSION})`);
    }
    return raw.zones.filter(isConfig);
  }

  /** Adds or replaces the credentials of `config.zone`; durable when it resolves. */
  set(config: DnsProviderConfig): Promise<void> {
    return this.#mutex.run(async () => {
      const zones = (await this.all()).filter((z) => z.zone !== config.zone);
      zones.push(config);
      zones.sort((a, b) => a.zone.localeCompare(b.zone));
      await mkdir(dirname(this.#path), { recursive: true, mode: 0o700 });
      await writeFileAtomic(this.#path, `${JSON.stringify({ version: VERSION, zones }, null, 2)}\n`, 0o600);
    });
  }
}
