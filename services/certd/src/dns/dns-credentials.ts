import type { Logger } from "@tako/daemon";
import type { DnsProviderStore } from "../store/dns-provider-store.js";
import { createDnsProvider, type DnsProviderEnvironment } from "./dns-provider.js";
import { type DnsProviderInput, parseDnsProviderConfig } from "./dns-provider-config.js";

export interface DnsCredentialsOptions {
  readonly store: DnsProviderStore;
  readonly environment: DnsProviderEnvironment;
  /** Called once new credentials are stored (certd retries the zone's failing wildcards). */
  readonly onChanged: (zone: string) => Promise<void>;
  readonly log: Logger;
}

/**
 * SetDnsProvider: validates the credentials, proves them against the provider (a zone lookup on
 * Cloudflare, a signed no-op update for RFC 2136), and only then stores them. Bad or rejected
 * credentials change nothing. Secrets never reach the logs.
 */
export class DnsCredentials {
  readonly #o: DnsCredentialsOptions;

  constructor(options: DnsCredentialsOptions) {
    this.#o = options;
  }

  async set(zone: string, input: DnsProviderInput, signal: AbortSignal): Promise<void> {
    const config = parseDnsProviderConfig(zone, input);
    const provider = createDnsProvider(config, this.#o.environment);
    await provider.verify(
      AbortSignal.any([signal, AbortSignal.timeout(this.#o.environment.requestTimeoutMs)]),
    );
    await this.#o.store.set(config);
    this.#o.log.info("dns provider set", { zone: config.zone, provider: config.kind });
    await this.#o.onChanged(config.zone);
  }
}
