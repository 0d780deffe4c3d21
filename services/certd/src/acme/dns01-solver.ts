import type { Logger } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import type { HostPort } from "../config.js";
import { createDnsProvider, type DnsProviderEnvironment } from "../dns/dns-provider.js";
import { providerForName } from "../dns/dns-provider-config.js";
import { waitForTxt } from "../dns/txt-propagation.js";
import type { DnsProviderStore } from "../store/dns-provider-store.js";
import type { ChallengeSolver } from "./acme-issuer.js";

export interface Dns01SolverOptions {
  readonly providers: DnsProviderStore;
  readonly environment: DnsProviderEnvironment;
  readonly propagationTimeoutMs: number;
  /** Where to check propagation instead of the zone's authoritative servers. */
  readonly checkServer: HostPort | undefined;
  readonly log: Logger;
}

/**
 * DNS-01: creates `_acme-challenge.<domain>` TXT through the zone's provider, waits until the
 * zone's authoritative servers answer it, and deletes that one record afterwards.
 */
export class Dns01Solver implements ChallengeSolver {
  readonly #options: Dns01SolverOptions;

  constructor(options: Dns01SolverOptions) {
    this.#options = options;
  }

  async present(domain: string, _token: string, keyAuthorization: string, signal: AbortSignal) {
    const { providers, environment, log } = this.#options;
    const config = providerForName(await providers.all(), domain);
    if (!config) {
      throw new TakoError("DNS_PROVIDER_MISSING", `no DNS-01 credentials cover ${domain}`, {
        metadata: { host: domain },
      });
    }
    const provider = createDnsProvider(config, environment);
    const name = `_acme-challenge.${domain}`;
    const record = await provider.addTxt(name, keyAuthorization, signal);
    const withdraw = () => provider.removeTxt(record, AbortSignal.timeout(environment.requestTimeoutMs));
    try {
      const servers = this.#options.checkServer
        ? [this.#options.checkServer]
        : await provider.nameservers(signal);
      await waitForTxt({
        servers,
        name,
        value: keyAuthorization,
        timeoutMs: this.#options.propagationTimeoutMs,
        signal,
      });
      log.info("dns-01 record visible", { name, zone: config.zone, provider: config.kind });
    } catch (err) {
      await withdraw().catch(() => undefined);
      throw err;
    }
    return withdraw;
  }
}
