import { create } from "@bufbuild/protobuf";
import {
  type CertificateBundle,
  CertificateBundleSchema,
  type CertificateInfo,
  CertificateInfoSchema,
  CertificateSource,
} from "@tako/proto";
import type { CertificateRecord } from "../store/certificate-record.js";

/** Names a record is known by: the certificate's own, or those asked for while it is pending. */
export function namesOf(record: CertificateRecord): readonly string[] {
  return record.state === "issued" && record.cert.facts.names.length > 0
    ? record.cert.facts.names
    : record.meta.names;
}

export function toInfo(record: CertificateRecord): CertificateInfo {
  const facts = record.state === "issued" ? record.cert.facts : undefined;
  return create(CertificateInfoSchema, {
    names: [...namesOf(record)],
    source: record.meta.source === "acme" ? CertificateSource.ACME : CertificateSource.SELF_SIGNED,
    notBeforeUnixMs: BigInt(facts?.notBeforeMs ?? 0),
    notAfterUnixMs: BigInt(facts?.notAfterMs ?? 0),
    issuer: facts?.issuer ?? "",
    lastError: record.meta.renewal.lastError,
  });
}

/** The bundle the edge serves; undefined for a host that has no certificate yet. */
export function toBundle(record: CertificateRecord): CertificateBundle | undefined {
  if (record.state !== "issued") return undefined;
  return create(CertificateBundleSchema, {
    info: toInfo(record),
    certChainPem: record.cert.chainPem,
    privateKeyPem: record.cert.keyPem,
    isDefault: record.meta.isDefault,
  });
}
