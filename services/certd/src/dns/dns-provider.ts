import type { HostPort } from "../config.js";
import { CloudflareProvider } from "./cloudflare-provider.js";
import type { DnsProviderConfig } from "./dns-provider-config.js";
import { Rfc2136Provider } from "./rfc2136-provider.js";

/** A TXT record a provider created, with what it needs to delete exactly that record. */
export interface TxtRecordRef {
  readonly name: string;
  readonly value: string;
  /** Provider's own record id, when it has one (Cloudflare). */
  readonly id?: string;
}

/**
 * What DNS-01 needs from a DNS host: create and delete TXT records in one zone, and know which
 * servers are authoritative for it (to wait until the record is visible there). Failures are
 * TakoErrors with reason DNS_PROVIDER_REJECTED carrying the provider's own words.
 */
export interface DnsProvider {
  readonly zone: string;
  /** Proves the credentials work for the zone without changing it. */
  verify(signal: AbortSignal): Promise<void>;
  addTxt(name: string, value: string, signal: AbortSignal): Promise<TxtRecordRef>;
  removeTxt(record: TxtRecordRef, signal: AbortSignal): Promise<void>;
  /** Authoritative servers of the zone, as addresses to query. */
  nameservers(signal: AbortSignal): Promise<HostPort[]>;
}

export interface DnsProviderEnvironment {
  readonly cloudflareApiUrl: string;
  readonly requestTimeoutMs: number;
}

export function createDnsProvider(config: DnsProviderConfig, env: DnsProviderEnvironment): DnsProvider {
  switch (config.kind) {
    case "cloudflare":
      return new CloudflareProvider(config, env);
    case "rfc2136":
      return new Rfc2136Provider(config, env);
  }
}
