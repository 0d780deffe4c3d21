import { isIP } from "node:net";
import { domainToASCII } from "node:url";
import { TakoError } from "@tako/errors";

/** A host a certificate is asked for, validated and normalised (lowercase ASCII, no trailing dot). */
export interface CertHost {
  /** "app.example.com" or "*.apps.example.com". */
  readonly name: string;
  readonly wildcard: boolean;
  /** The name without its "*." (the domain an ACME authorization is for). */
  readonly base: string;
  /** Private or local names get self-signed certificates; the public CA would refuse them. */
  readonly isPrivate: boolean;
  /** Directory name under the certificates directory ("*" never appears in a file name). */
  readonly key: string;
}

/** Storage key of the default certificate; "_" cannot start a host name, so it never collides. */
export const DEFAULT_CERT_KEY = "_default";
/** Name on the default certificate: reserved (RFC 2606), so it never matches a real SNI. */
export const DEFAULT_CERT_NAME = "default.tako.invalid";

const MAX_INPUT_CHARS = 300;
const MAX_NAME_CHARS = 253;
/**
 * Longest storage key: it becomes a file name, and the atomic symlink swap writes it first under
 * ".<key>.<pid>.<8 hex>.tmp", all within the 255 bytes a file name may have.
 */
const MAX_KEY_CHARS = 230;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** Suffixes no public CA issues for (RFC 6761, RFC 8375), plus mDNS `.local`. */
const PRIVATE_SUFFIXES = ["localhost", "local", "test", "invalid", "example", "home.arpa"];

function invalid(input: string, why: string): TakoError {
  const shown = input.length > 80 ? `${input.slice(0, 80)}…` : input;
  return new TakoError(
    "CERT_HOST_INVALID",
    `"${shown}" is not a host a certificate can be issued for: ${why}`,
    {
      metadata: { host: shown },
    },
  );
}

/** Whether certd issues a self-signed certificate for this (normalised, non-wildcard) name. */
export function isPrivateName(name: string): boolean {
  if (!name.includes(".")) return true; // dotless: an intranet or container name
  return PRIVATE_SUFFIXES.some((suffix) => name === suffix || name.endsWith(`.${suffix}`));
}

/**
 * Parses a route's host part. Accepts internationalised names (stored as punycode) and one
 * leading wildcard label; refuses IP addresses (TLS picks certificates by SNI, which never
 * carries an address) and wildcards directly under a top-level domain (`*.test`), which
 * Node, OpenSSL and browsers all reject.
 */
export function parseCertHost(input: string): CertHost {
  if (typeof input !== "string" || input.length === 0) throw invalid(String(input), "it is empty");
  if (input.length > MAX_INPUT_CHARS) throw invalid(input, `it is longer than ${MAX_NAME_CHARS} characters`);
  if (/[\s/:@?#]/.test(input)) {
    throw invalid(input, "give the host alone, without scheme, port, path or spaces");
  }
  const trimmed = input.endsWith(".") ? input.slice(0, -1) : input;
  const wildcard = trimmed.startsWith("*.");
  const rest = wildcard ? trimmed.slice(2) : trimmed;
  if (rest.includes("*"))
    throw invalid(input, "a wildcard may only be the whole leftmost label (*.example.com)");
  if (isIP(rest) !== 0 || /^\[.*\]$/.test(rest)) {
    throw invalid(input, "IP addresses are never sent as SNI; use a DNS name");
  }
  const base = domainToASCII(rest);
  if (base === "") throw invalid(input, "it is not a valid DNS name");
  const labels = base.split(".");
  for (const label of labels) {
    if (!LABEL.test(label)) {
      throw invalid(input, `label "${label}" must be 1-63 letters, digits or inner hyphens`);
    }
  }
  if (/^[0-9]+$/.test(labels.at(-1) ?? "")) throw invalid(input, "the top-level label cannot be numeric");
  const name = wildcard ? `*.${base}` : base;
  if (name.length > MAX_NAME_CHARS) throw invalid(input, `it is longer than ${MAX_NAME_CHARS} characters`);
  if (wildcard && labels.length < 2) {
    throw invalid(
      input,
      `a wildcard needs at least two labels after "*." (TLS clients reject *.${base}); use *.<name>.${base}`,
    );
  }
  const key = wildcard ? `_wildcard.${base}` : base;
  if (key.length > MAX_KEY_CHARS) {
    throw invalid(
      input,
      `certd stores names of at most ${MAX_KEY_CHARS} characters (wildcards: ${MAX_KEY_CHARS - 8})`,
    );
  }
  return { name, wildcard, base, isPrivate: isPrivateName(base), key };
}

/** The host a storage key stands for, or undefined for keys that are not hosts (the default). */
export function hostOfKey(key: string): string | undefined {
  if (key === DEFAULT_CERT_KEY) return undefined;
  if (key.startsWith("_wildcard.")) return `*.${key.slice("_wildcard.".length)}`;
  return key;
}
