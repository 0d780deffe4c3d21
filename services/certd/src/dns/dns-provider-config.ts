import { TakoError } from "@tako/errors";
import { parseHostPort } from "../config.js";
import { parseCertHost } from "../names/cert-host.js";
import { isTsigAlgorithm, TSIG_ALGORITHMS, type TsigAlgorithm } from "./tsig.js";

/** DNS-01 credentials for one zone, as stored (certsDir/dns-providers.json, mode 0600). */
export type DnsProviderConfig =
  | {
      readonly kind: "cloudflare";
      readonly zone: string;
      /** API token with Zone.DNS edit permission. */
      readonly apiToken: string;
      /** Looked up from the zone name when empty. */
      readonly zoneId: string;
    }
  | {
      readonly kind: "rfc2136";
      readonly zone: string;
      /** Primary server accepting updates, "host:port". */
      readonly server: string;
      readonly tsigKeyName: string;
      /** Base64. */
      readonly tsigSecret: string;
      readonly tsigAlgorithm: TsigAlgorithm;
    };

/** The provider part of a SetDnsProvider request, as plain data (the RPC layer decodes it). */
export type DnsProviderInput =
  | { readonly kind: "cloudflare"; readonly apiToken: string; readonly zoneId: string }
  | {
      readonly kind: "rfc2136";
      readonly server: string;
      readonly tsigKeyName: string;
      readonly tsigSecret: string;
      readonly tsigAlgorithm: string;
    }
  | { readonly kind: "none" };

const MAX_FIELD_CHARS = 1024;

function invalid(message: string, zone: string): TakoError {
  return new TakoError("DNS_PROVIDER_INVALID", message, { metadata: { zone } });
}

function bounded(value: string, field: string, zone: string): string {
  if (value.length > MAX_FIELD_CHARS)
    throw invalid(`${field} is longer than ${MAX_FIELD_CHARS} characters`, zone);
  return value;
}

/** Validates SetDnsProvider input; throws DNS_PROVIDER_INVALID naming the field. */
export function parseDnsProviderConfig(zoneInput: string, input: DnsProviderInput): DnsProviderConfig {
  let zone: string;
  try {
    const host = parseCertHost(zoneInput);
    if (host.wildcard) throw new Error("wildcard");
    zone = host.name;
  } catch {
    throw invalid(
      `zone "${zoneInput.slice(0, 80)}" must be a DNS name such as example.com`,
      zoneInput.slice(0, 80),
    );
  }
  switch (input.kind) {
    case "none":
      throw invalid("choose a provider: cloudflare or rfc2136", zone);
    case "cloudflare": {
      const apiToken = bounded(input.apiToken.trim(), "the Cloudflare API token", zone);
      if (apiToken === "" || /\s/.test(apiToken)) {
        throw invalid("the Cloudflare API token is empty or contains spaces", zone);
      }
      const zoneId = bounded(input.zoneId.trim(), "the Cloudflare zone id", zone);
      if (zoneId !== "" && !/^[0-9a-f]{32}$/.test(zoneId)) {
        throw invalid("the Cloudflare zone id must be 32 hex characters (or empty to look it up)", zone);
      }
      return { kind: "cloudflare", zone, apiToken, zoneId };
    }
    case "rfc2136": {
      const server = bounded(input.server.trim(), "the server", zone);
      if (!parseHostPort(server)) throw invalid(`the server must be host:port (e.g. ns1.${zone}:53)`, zone);
      const tsigKeyName = bounded(input.tsigKeyName.trim().replace(/\.$/, ""), "the TSIG key name", zone);
      if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(tsigKeyName) || tsigKeyName.length > 253) {
        throw invalid("the TSIG key name must be a DNS name such as tako-acme", zone);
      }
      const tsigSecret = bounded(input.tsigSecret.trim(), "the TSIG secret", zone);
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(tsigSecret) || Buffer.from(tsigSecret, "base64").length < 16) {
        throw invalid(
          "the TSIG secret must be base64 of at least 16 bytes (as `tsig-keygen` prints it)",
          zone,
        );
      }
      const tsigAlgorithm = (input.tsigAlgorithm.trim() || "hmac-sha256").toLowerCase();
      if (!isTsigAlgorithm(tsigAlgorithm)) {
        throw invalid(`the TSIG algorithm must be one of ${TSIG_ALGORITHMS.join(", ")}`, zone);
      }
      return { kind: "rfc2136", zone, server, tsigKeyName, tsigSecret, tsigAlgorithm };
    }
  }
}

/** The configuration responsible for `name`: the one of the longest zone it is in. */
export function providerForName(
  configs: readonly DnsProviderConfig[],
  name: string,
): DnsProviderConfig | undefined {
  let best: DnsProviderConfig | undefined;
  for (const config of configs) {
    if (name === config.zone || name.endsWith(`.${config.zone}`)) {
      if (!best || config.zone.length > best.zone.length) best = config;
    }
  }
  return best;
}
