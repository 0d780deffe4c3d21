// reflect-metadata must load before @peculiar/x509 (its dependency injection container needs it).
import "reflect-metadata";
import { createPrivateKey, randomBytes, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

// ECDSA P-256 through Node's WebCrypto: key generation and signing take milliseconds, where
// node-forge would need RSA (its X.509 code is RSA-only) at hundreds of milliseconds per key.
// @peculiar/x509 already ships with acme-client, so it adds no new code to the install.
// Node's webcrypto is the standard Crypto object; the DOM type x509 names is not in our lib.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
/** Backdating absorbs clock skew between this host and its clients. */
const BACKDATE_MS = 60 * 60 * 1000;

export interface SelfSignedOptions {
  /** DNS names of the certificate, the first one also its common name. */
  readonly names: readonly string[];
  /** Common name when it should differ from the first DNS name (the default certificate). */
  readonly commonName?: string;
  readonly validityMs: number;
  readonly now: number;
}

export interface KeyAndChain {
  readonly chainPem: string;
  readonly keyPem: string;
}

/** A self-signed ECDSA P-256 server certificate for `names`, with its PKCS#8 key. */
export async function createSelfSigned(options: SelfSignedOptions): Promise<KeyAndChain> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, [
    "sign",
    "verify",
  ])) as webcrypto.CryptoKeyPair;
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f; // a positive integer, as RFC 5280 requires
  const cn = (options.commonName ?? options.names[0] ?? "localhost").replace(/[,=+<>#;"\\]/g, "");
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString("hex"),
    name: `CN=${cn}`,
    notBefore: new Date(options.now - BACKDATE_MS),
    notAfter: new Date(options.now + options.validityMs),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(options.names.map((value) => ({ type: "dns", value }))),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  const keyPem = createPrivateKey({ key: Buffer.from(pkcs8), format: "der", type: "pkcs8" })
    .export({ format: "pem", type: "pkcs8" })
    .toString();
  return { chainPem: `${cert.toString("pem")}\n`, keyPem };
}
