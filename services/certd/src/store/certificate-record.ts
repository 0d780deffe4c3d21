import type { CertificateFacts } from "../tls/certificate-pem.js";
import type { KeyAndChain } from "../tls/self-signed.js";

export type CertificateSourceName = "self-signed" | "acme";

/** Outcome of the attempts to obtain or renew a certificate, kept across restarts. */
export interface RenewalState {
  /** Last failure with the CA's reason; "" once an attempt succeeded. */
  readonly lastError: string;
  /** Failed attempts since the last success (drives the backoff). */
  readonly failures: number;
  /** 0 when never attempted. */
  readonly lastAttemptMs: number;
  /** No automatic attempt before this time; 0 for "as soon as it is due". */
  readonly nextAttemptMs: number;
}

export const FRESH_RENEWAL: RenewalState = Object.freeze({
  lastError: "",
  failures: 0,
  lastAttemptMs: 0,
  nextAttemptMs: 0,
});

/** What certd records about one certificate besides the PEM files. */
export interface CertificateMeta {
  /** Storage key: the host name ("_wildcard.<base>" for a wildcard) or DEFAULT_CERT_KEY. */
  readonly key: string;
  readonly isDefault: boolean;
  /** How it is obtained (and renewed). */
  readonly source: CertificateSourceName;
  /** Names asked for; the certificate's own names are in its facts. */
  readonly names: readonly string[];
  /** The deployment that asked first, for logs. */
  readonly app: string;
  readonly env: string;
  readonly renewal: RenewalState;
}

/**
 * One stored entry: either a certificate with its key, or a host whose first certificate could
 * not be obtained yet ("pending", retried with backoff, its failure in `renewal.lastError`).
 */
export type CertificateRecord =
  | {
      readonly state: "issued";
      readonly meta: CertificateMeta;
      readonly cert: KeyAndChain & { readonly facts: CertificateFacts };
      /** Directory name of the generation on disk (changes with every write). */
      readonly generation: string;
    }
  | { readonly state: "pending"; readonly meta: CertificateMeta; readonly generation: string };

const METADATA_VERSION = 1;

/** metadata.json: flat, readable by an operator; the PEM files stay the truth about the certificate. */
export function serializeMeta(meta: CertificateMeta, facts: CertificateFacts | undefined): string {
  return `${JSON.stringify(
    {
      version: METADATA_VERSION,
      key: meta.key,
      isDefault: meta.isDefault,
      source: meta.source,
      names: meta.names,
      app: meta.app,
      env: meta.env,
      ...(facts
        ? {
            issuer: facts.issuer,
            serial: facts.serial,
            notBefore: new Date(facts.notBeforeMs).toISOString(),
            notAfter: new Date(facts.notAfterMs).toISOString(),
          }
        : {}),
      lastError: meta.renewal.lastError,
      failures: meta.renewal.failures,
      lastAttemptMs: meta.renewal.lastAttemptMs,
      nextAttemptMs: meta.renewal.nextAttemptMs,
    },
    null,
    2,
  )}\n`;
}

function field<T>(value: unknown, check: (v: unknown) => v is T, name: string): T {
  if (!check(value)) throw new Error(`metadata field "${name}" is missing or has the wrong type`);
  return value;
}
const isString = (v: unknown): v is string => typeof v === "string";
const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
const isBool = (v: unknown): v is boolean => typeof v === "boolean";
const isNames = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isSource = (v: unknown): v is CertificateSourceName => v === "self-signed" || v === "acme";

/** Reads metadata.json; throws on anything unexpected (the caller treats the entry as corrupt). */
export function parseMeta(text: string): CertificateMeta {
  const raw = JSON.parse(text) as Record<string, unknown>;
  if (typeof raw !== "object" || raw === null) throw new Error("metadata is not an object");
  if (raw.version !== METADATA_VERSION) throw new Error(`unknown metadata version ${String(raw.version)}`);
  return {
    key: field(raw.key, isString, "key"),
    isDefault: field(raw.isDefault, isBool, "isDefault"),
    source: field(raw.source, isSource, "source"),
    names: field(raw.names, isNames, "names"),
    app: field(raw.app, isString, "app"),
    env: field(raw.env, isString, "env"),
    renewal: {
      lastError: field(raw.lastError, isString, "lastError"),
      failures: field(raw.failures, isCount, "failures"),
      lastAttemptMs: field(raw.lastAttemptMs, isCount, "lastAttemptMs"),
      nextAttemptMs: field(raw.nextAttemptMs, isCount, "nextAttemptMs"),
    },
  };
}
