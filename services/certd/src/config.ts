import { isAbsolute } from "node:path";
import type { DaemonConfig, FlagSpecs } from "@tako/daemon";
import { TakoError } from "@tako/errors";

export const LETS_ENCRYPT_DIRECTORY_URL = "https://acme-v02.api.letsencrypt.org/directory";
export const CLOUDFLARE_API_URL = "https://api.cloudflare.com/client/v4";

const DAY_MS = 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
const MAX_MS = 100 * 365 * DAY_MS;

/** certd's flags beyond --root. Defaults follow the original Tako (renew within 30 days, check every 12 h). */
export const CERTD_FLAGS = {
  httpPort: {
    type: "integer",
    default: 80,
    min: 1,
    max: 65535,
    description: "the edge's HTTP port; HTTP-01 answers are checked there before the CA is asked",
  },
  acmeDirectoryUrl: {
    type: "string",
    default: LETS_ENCRYPT_DIRECTORY_URL,
    description: "ACME directory of the CA",
  },
  acmeCaFile: {
    type: "string",
    default: "",
    description: "PEM file of extra CA certificates to trust for the ACME server's own TLS (absolute path)",
  },
  acmeEmail: { type: "string", default: "", description: "contact email of the ACME account" },
  noAcme: {
    type: "boolean",
    default: false,
    description: "self-signed certificates only; never contact a CA",
  },
  renewBeforeMs: {
    type: "integer",
    default: 30 * DAY_MS,
    min: 60_000,
    max: MAX_MS,
    description: "renew a certificate when it expires within this many milliseconds",
  },
  renewalCheckIntervalMs: {
    type: "integer",
    default: 12 * HOUR_MS,
    min: 100,
    max: 7 * DAY_MS,
    description: "how often to look for certificates due for renewal",
  },
  retryMinMs: {
    type: "integer",
    default: 5 * 60_000,
    min: 10,
    max: 7 * DAY_MS,
    description: "first delay before retrying a failed order (doubles per failure)",
  },
  retryMaxMs: {
    type: "integer",
    default: 6 * HOUR_MS,
    min: 10,
    max: 7 * DAY_MS,
    description: "longest delay between retries of a failing order",
  },
  acmeOrderTimeoutMs: {
    type: "integer",
    default: 300_000,
    min: 1_000,
    max: HOUR_MS,
    description: "give up on one ACME order after this long",
  },
  dnsPropagationTimeoutMs: {
    type: "integer",
    default: 120_000,
    min: 1_000,
    max: HOUR_MS,
    description: "how long a DNS-01 TXT record may take to appear on the zone's authoritative servers",
  },
  dnsCheckServer: {
    type: "string",
    default: "",
    description:
      "host:port to check DNS-01 propagation on instead of the zone's authoritative servers (split-horizon DNS)",
  },
  cloudflareApiUrl: {
    type: "string",
    default: CLOUDFLARE_API_URL,
    description: "Cloudflare API v4 base URL",
  },
} as const satisfies FlagSpecs;

export type CertdConfig = DaemonConfig<typeof CERTD_FLAGS>;

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** certd's configuration after the checks flags alone cannot express. */
export interface CertdSettings {
  readonly httpPort: number;
  /** undefined with --no-acme. */
  readonly acme:
    | {
        readonly directoryUrl: string;
        readonly caFile: string | undefined;
        readonly email: string | undefined;
        readonly orderTimeoutMs: number;
      }
    | undefined;
  readonly renewBeforeMs: number;
  readonly renewalCheckIntervalMs: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  readonly dnsPropagationTimeoutMs: number;
  readonly dnsCheckServer: HostPort | undefined;
  readonly cloudflareApiUrl: string;
}

function invalid(flag: string, problem: string, example: string): TakoError {
  return new TakoError("CONFIG_INVALID", `certd: --${flag} ${problem} (example: --${flag} ${example})`);
}

/** "host:port" or "[v6]:port". */
export function parseHostPort(value: string): HostPort | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):([0-9]{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

function httpUrl(flag: string, value: string, example: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(flag, `must be a URL, got "${value}"`, example);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw invalid(flag, `must be an https:// URL, got "${value}"`, example);
  }
  return value.replace(/\/+$/, "");
}

export function parseCertdSettings(config: CertdConfig): CertdSettings {
  if (config.acmeCaFile !== "" && !isAbsolute(config.acmeCaFile)) {
    throw invalid(
      "acme-ca-file",
      `must be an absolute path, got "${config.acmeCaFile}"`,
      "/etc/tako/acme-ca.pem",
    );
  }
  if (config.acmeEmail !== "" && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(config.acmeEmail)) {
    throw invalid("acme-email", `must be an email address, got "${config.acmeEmail}"`, "ops@example.com");
  }
  if (config.retryMaxMs < config.retryMinMs) {
    throw invalid(
      "retry-max-ms",
      `must be at least --retry-min-ms (${config.retryMinMs})`,
      String(6 * HOUR_MS),
    );
  }
  const dnsCheckServer = config.dnsCheckServer === "" ? undefined : parseHostPort(config.dnsCheckServer);
  if (config.dnsCheckServer !== "" && !dnsCheckServer) {
    throw invalid("dns-check-server", `must be host:port, got "${config.dnsCheckServer}"`, "127.0.0.1:53");
  }
  return Object.freeze({
    httpPort: config.httpPort,
    acme: config.noAcme
      ? undefined
      : {
          directoryUrl: httpUrl("acme-directory-url", config.acmeDirectoryUrl, LETS_ENCRYPT_DIRECTORY_URL),
          caFile: config.acmeCaFile || undefined,
          email: config.acmeEmail || undefined,
          orderTimeoutMs: config.acmeOrderTimeoutMs,
        },
    renewBeforeMs: config.renewBeforeMs,
    renewalCheckIntervalMs: config.renewalCheckIntervalMs,
    retryMinMs: config.retryMinMs,
    retryMaxMs: config.retryMaxMs,
    dnsPropagationTimeoutMs: config.dnsPropagationTimeoutMs,
    dnsCheckServer,
    cloudflareApiUrl: httpUrl("cloudflare-api-url", config.cloudflareApiUrl, CLOUDFLARE_API_URL),
  });
}
