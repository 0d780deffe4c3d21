import { TakoError } from "@tako/errors";
import { type HostPort, parseHostPort } from "../config.js";
import type { DnsProvider, DnsProviderEnvironment, TxtRecordRef } from "./dns-provider.js";
import type { DnsProviderConfig } from "./dns-provider-config.js";
import { DnsUpdateError, sendDnsUpdate, type TxtUpdate } from "./dns-update.js";
import type { TsigKey } from "./tsig.js";

type Rfc2136Config = Extract<DnsProviderConfig, { kind: "rfc2136" }>;

/** TTL of challenge records: short, they live for one validation. */
const CHALLENGE_TTL_S = 60;

/** DNS-01 through dynamic updates (RFC 2136) signed with TSIG, sent to the zone's primary server. */
export class Rfc2136Provider implements DnsProvider {
  readonly zone: string;
  readonly #server: HostPort;
  readonly #key: TsigKey;
  readonly #timeoutMs: number;

  constructor(config: Rfc2136Config, env: DnsProviderEnvironment) {
    const server = parseHostPort(config.server);
    if (!server) throw new TakoError("DNS_PROVIDER_INVALID", `bad RFC 2136 server "${config.server}"`);
    this.zone = config.zone;
    this.#server = server;
    this.#key = {
      name: config.tsigKeyName,
      algorithm: config.tsigAlgorithm,
      secret: Buffer.from(config.tsigSecret, "base64"),
    };
    this.#timeoutMs = env.requestTimeoutMs;
  }

  async #update(updates: TxtUpdate[], signal: AbortSignal, doing: string): Promise<void> {
    try {
      await sendDnsUpdate({
        host: this.#server.host,
        port: this.#server.port,
        zone: this.zone,
        key: this.#key,
        updates,
        timeoutMs: this.#timeoutMs,
        signal,
      });
    } catch (err) {
      if (!(err instanceof DnsUpdateError)) throw err;
      throw new TakoError(
        "DNS_PROVIDER_REJECTED",
        `RFC 2136 ${doing} for zone ${this.zone} failed: ${err.message}`,
        {
          metadata: { zone: this.zone, ...(err.rcode ? { rcode: err.rcode } : {}) },
          cause: err,
        },
      );
    }
  }

  /** A signed update with no changes: the server checks the key and its authority over the zone. */
  verify(signal: AbortSignal): Promise<void> {
    return this.#update([], signal, "credential check");
  }

  async addTxt(name: string, value: string, signal: AbortSignal): Promise<TxtRecordRef> {
    await this.#update([{ op: "add", name, value, ttlS: CHALLENGE_TTL_S }], signal, `adding TXT ${name}`);
    return { name, value };
  }

  async removeTxt(record: TxtRecordRef, signal: AbortSignal): Promise<void> {
    await this.#update(
      [{ op: "delete", name: record.name, value: record.value }],
      signal,
      `removing TXT ${record.name}`,
    );
  }

  /** The primary the updates go to is authoritative by definition. */
  async nameservers(): Promise<HostPort[]> {
    return [this.#server];
  }
}
