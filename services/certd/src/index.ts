export { certd } from "./certd.js";
export { CERTD_FLAGS, type CertdSettings, LETS_ENCRYPT_DIRECTORY_URL, parseCertdSettings } from "./config.js";
export { sendDnsUpdate, type TxtUpdate } from "./dns/dns-update.js";
export { type CertHost, DEFAULT_CERT_NAME, isPrivateName, parseCertHost } from "./names/cert-host.js";
export { type CertificateMeta, type CertificateRecord, FRESH_RENEWAL } from "./store/certificate-record.js";
export { CertificateStore } from "./store/certificate-store.js";
export { describeChain } from "./tls/certificate-pem.js";
export { createSelfSigned } from "./tls/self-signed.js";
