import { lookup } from "node:dns/promises";
import { TakoError } from "@tako/errors";
import type { HostPort } from "../config.js";
import type { DnsProvider, DnsProviderEnvironment, TxtRecordRef } from "./dns-provider.js";
import type { DnsProviderConfig } from "./dns-provider-config.js";

type CloudflareConfig = Extract<DnsProviderConfig, { kind: "cloudflare" }>;

interface CloudflareZone {
  readonly id: string;
  readonly name: string;
  readonly name_servers?: readonly string[];
}

interface CloudflareEnvelope<T> {
  readonly success?: boolean;
  readonly errors?: readonly { readonly code?: number; readonly message?: string }[];
  readonly result?: T;
}

const MAX_RESPONSE_BYTES = 1024 * 1024;
const CHALLENGE_TTL_S = 60;

/**
 * DNS-01 through Cloudflare's REST API v4: find the zone, create a TXT record, delete it by id.
 * Authenticates with an API token (Bearer); the token needs Zone.DNS edit on the zone.
 */
export class CloudflareProvider implements DnsProvider {
  readonly zone: string;
  readonly #token: string;
  readonly #apiUrl: string;
  readonly #timeoutMs: number;
  #zone: CloudflareZone | undefined;
  readonly #zoneId: string;

  constructor(config: CloudflareConfig, env: DnsProviderEnvironment) {
    this.zone = config.zone;
    this.#token = config.apiToken;
    this.#zoneId = config.zoneId;
    this.#apiUrl = env.cloudflareApiUrl.replace(/\/+$/, "");
    this.#timeoutMs = env.requestTimeoutMs;
  }

  async #call<T>(
    method: string,
    path: string,
    doing: string,
    signal: AbortSignal,
    body?: object,
  ): Promise<T> {
    const fail = (detail: string, status?: number) =>
      new TakoError("DNS_PROVIDER_REJECTED", `Cloudflare: ${doing} for zone ${this.zone} failed: ${detail}`, {
        metadata: { zone: this.zone, provider: "cloudflare", ...(status ? { status: String(status) } : {}) },
      });
    let res: Response;
    try {
      res = await fetch(`${this.#apiUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.#token}`,
          ...(body ? { "content-type": "application/json" } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.#timeoutMs)]),
      });
    } catch (err) {
      throw fail(`cannot reach the API (${(err as Error).message})`);
    }
    const text = await res.text();
    if (text.length > MAX_RESPONSE_BYTES)
      throw fail("the API answered with an oversized response", res.status);
    let envelope: CloudflareEnvelope<T>;
    try {
      envelope = JSON.parse(text) as CloudflareEnvelope<T>;
    } catch {
      throw fail(`the API answered HTTP ${res.status} without JSON`, res.status);
    }
    if (!res.ok || envelope.success !== true || envelope.result === undefined) {
      const reasons = (envelope.errors ?? []).map(
        (e) => `${e.message ?? "error"}${e.code ? ` (code ${e.code})` : ""}`,
      );
      throw fail(reasons.length ? reasons.join("; ") : `HTTP ${res.status}`, res.status);
    }
    return envelope.result;
  }

  async #findZone(signal: AbortSignal): Promise<CloudflareZone> {
    if (this.#zone) return this.#zone;
    let zone: CloudflareZone | undefined;
    if (this.#zoneId) {
      zone = await this.#call<CloudflareZone>("GET", `/zones/${this.#zoneId}`, "reading the zone", signal);
    } else {
      const zones = await this.#call<CloudflareZone[]>(
        "GET",
        `/zones?name=${encodeURIComponent(this.zone)}`,
        "looking up the zone",
        signal,
      );
      zone = zones.find((z) => z.name === this.zone);
    }
    if (!zone?.id) {
      throw new TakoError(
        "DNS_PROVIDER_REJECTED",
        `Cloudflare: no zone ${this.zone} is visible to this API token`,
        {
          metadata: { zone: this.zone, provider: "cloudflare" },
        },
      );
    }
    this.#zone = zone;
    return zone;
  }

  async verify(signal: AbortSignal): Promise<void> {
    await this.#findZone(signal);
  }

  async addTxt(name: string, value: string, signal: AbortSignal): Promise<TxtRecordRef> {
    const zone = await this.#findZone(signal);
    const created = await this.#call<{ id: string }>(
      "POST",
      `/zones/${zone.id}/dns_records`,
      `creating TXT ${name}`,
      signal,
      { type: "TXT", name, content: value, ttl: CHALLENGE_TTL_S },
    );
    return { name, value, id: created.id };
  }

  async removeTxt(record: TxtRecordRef, signal: AbortSignal): Promise<void> {
    if (!record.id) return;
    const zone = await this.#findZone(signal);
    await this.#call(
      "DELETE",
      `/zones/${zone.id}/dns_records/${encodeURIComponent(record.id)}`,
      `deleting TXT ${record.name}`,
      signal,
    );
  }

  /** The zone's Cloudflare nameservers, resolved through the system resolver. */
  async nameservers(signal: AbortSignal): Promise<HostPort[]> {
    const zone = await this.#findZone(signal);
    const servers: HostPort[] = [];
    for (const name of zone.name_servers ?? []) {
      const addresses = await lookup(name, { all: true }).catch(() => []);
      for (const { address } of addresses) servers.push({ host: address, port: 53 });
    }
    return servers;
  }
}
