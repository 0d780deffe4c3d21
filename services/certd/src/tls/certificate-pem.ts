import { createPrivateKey, X509Certificate } from "node:crypto";

/** What certd needs to know about a certificate chain, read from its leaf. */
export interface CertificateFacts {
  /** subjectAltName DNS entries of the leaf. */
  readonly names: readonly string[];
  /** Issuer common name (the issuer's full DN when it has no CN). */
  readonly issuer: string;
  /** Serial number, uppercase hex. */
  readonly serial: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** SHA-256 fingerprint of the leaf, "AB:CD:…". */
  readonly fingerprint: string;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM chain, leaf first, each as its own PEM block. */
export function splitPemChain(chainPem: string): string[] {
  return chainPem.match(PEM_BLOCK) ?? [];
}

function commonName(dn: string): string {
  const cn = dn.split("\n").find((line) => line.startsWith("CN="));
  return cn ? cn.slice(3) : dn.replace(/\n/g, ", ");
}

/**
 * Reads a chain (leaf first) and checks that `keyPem` is the leaf's private key. Throws a plain
 * Error saying what is wrong; callers decide whether that is bad input or a corrupt store.
 */
export function describeChain(chainPem: string, keyPem?: string): CertificateFacts {
  const [leafPem] = splitPemChain(chainPem);
  if (!leafPem) throw new Error("no PEM certificate in the chain");
  const leaf = new X509Certificate(leafPem);
  if (keyPem !== undefined && !leaf.checkPrivateKey(createPrivateKey(keyPem))) {
    throw new Error("the private key does not belong to the certificate");
  }
  const names = (leaf.subjectAltName ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.startsWith("DNS:"))
    .map((entry) => entry.slice(4).toLowerCase());
  return {
    names,
    issuer: commonName(leaf.issuer),
    serial: leaf.serialNumber.toUpperCase(),
    notBeforeMs: Date.parse(leaf.validFrom),
    notAfterMs: Date.parse(leaf.validTo),
    fingerprint: leaf.fingerprint256,
  };
}
