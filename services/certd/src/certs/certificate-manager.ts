import type { Logger } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import type { AcmeIssuer } from "../acme/acme-issuer.js";
import { providerForName } from "../dns/dns-provider-config.js";
import {
  type CertHost,
  DEFAULT_CERT_KEY,
  DEFAULT_CERT_NAME,
  hostOfKey,
  parseCertHost,
} from "../names/cert-host.js";
import {
  type CertificateMeta,
  type CertificateRecord,
  type CertificateSourceName,
  FRESH_RENEWAL,
} from "../store/certificate-record.js";
import type { CertificateStore } from "../store/certificate-store.js";
import type { DnsProviderStore } from "../store/dns-provider-store.js";
import { createSelfSigned } from "../tls/self-signed.js";
import { type RetryPolicy, retryDelayMs } from "./retry-backoff.js";

export interface CertificatePolicy extends RetryPolicy {
  /** A certificate expiring within this window is renewed. */
  readonly renewBeforeMs: number;
}

export interface CertificateManagerOptions {
  readonly store: CertificateStore;
  /** undefined with --no-acme: every name gets a self-signed certificate. */
  readonly issuer: AcmeIssuer | undefined;
  readonly providers: DnsProviderStore;
  readonly policy: CertificatePolicy;
  readonly log: Logger;
  /** Aborted when the daemon stops; orders in flight are abandoned (the next start retries). */
  readonly signal: AbortSignal;
  /** Asks the renewal loop to look again now (after credentials changed, say). */
  readonly wakeRenewals: () => void;
  readonly now?: () => number;
}

/** Hosts one EnsureCertificates call may ask for. */
export const MAX_HOSTS_PER_REQUEST = 100;
const DAY_MS = 24 * 60 * 60 * 1000;
/** The longest validity browsers accept for a leaf; self-signed certificates use it. */
const SELF_SIGNED_VALIDITY_MS = 397 * DAY_MS;

/** Longest app or env name stored with a certificate. */
const MAX_LABEL_CHARS = 128;

function checkHostCount(hosts: readonly string[]): void {
  if (hosts.length > MAX_HOSTS_PER_REQUEST) {
    throw new TakoError(
      "CERT_HOST_INVALID",
      `at most ${MAX_HOSTS_PER_REQUEST} hosts per request, got ${hosts.length}`,
    );
  }
}

interface Requester {
  readonly app: string;
  readonly env: string;
}

/** One error for several failed hosts, keeping the reason when only one failed. */
function combine(errors: readonly TakoError[]): TakoError {
  if (errors.length === 1 && errors[0]) return errors[0];
  return new TakoError("CERT_ISSUE_FAILED", errors.map((e) => e.message).join("; "), {
    metadata: { failed: String(errors.length) },
  });
}

function asTakoError(err: unknown): TakoError {
  return TakoError.is(err) ? err : new TakoError("INTERNAL", "certificate handling failed", { cause: err });
}

/**
 * Decides, per host, whether a stored certificate can be used or a new one is needed, obtains it
 * (self-signed for private names or without ACME; otherwise an ACME order), stores it before
 * answering, and records failures with backoff. A failure never replaces a certificate in use.
 */
export class CertificateManager {
  readonly #o: CertificateManagerOptions;
  readonly #now: () => number;
  readonly #inflight = new Map<string, Promise<CertificateRecord>>();

  constructor(options: CertificateManagerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  get #selfSignedValidityMs(): number {
    return Math.max(SELF_SIGNED_VALIDITY_MS, 2 * this.#o.policy.renewBeforeMs);
  }

  list(): CertificateRecord[] {
    return this.#o.store.all();
  }

  #sourceFor(host: CertHost): CertificateSourceName {
    return host.isPrivate || !this.#o.issuer ? "self-signed" : "acme";
  }

  /** Whether a record wants a new certificate within `windowMs` (or after a failure). */
  #due(record: CertificateRecord, windowMs: number): boolean {
    if (record.state === "pending" || record.meta.renewal.failures > 0) return true;
    return record.cert.facts.notAfterMs - this.#now() <= windowMs;
  }

  /** Makes sure the default certificate (served when no name matches) exists and is current. */
  async ensureDefault(): Promise<CertificateRecord> {
    const existing = this.#o.store.get(DEFAULT_CERT_KEY);
    if (existing?.state === "issued" && !this.#due(existing, this.#o.policy.renewBeforeMs)) return existing;
    return this.#once(DEFAULT_CERT_KEY, async () => {
      const chain = await createSelfSigned({
        names: [DEFAULT_CERT_NAME],
        commonName: "Tako default certificate",
        validityMs: this.#selfSignedValidityMs,
        now: this.#now(),
      });
      const meta: CertificateMeta = {
        key: DEFAULT_CERT_KEY,
        isDefault: true,
        source: "self-signed",
        names: [DEFAULT_CERT_NAME],
        app: "",
        env: "",
        renewal: FRESH_RENEWAL,
      };
      const record = await this.#o.store.saveIssued(meta, chain);
      this.#o.log.info("default certificate created", {
        notAfter: new Date(this.#now() + this.#selfSignedValidityMs),
      });
      return record;
    });
  }

  /**
   * EnsureCertificates: every host validated first (bad input changes nothing), then each one
   * reuses its certificate or gets a new one. Fails, after trying every host, if any host has no
   * usable certificate; certificates obtained for the others are kept.
   */
  async ensure(hostInputs: readonly string[], requester: Requester): Promise<CertificateRecord[]> {
    checkHostCount(hostInputs);
    for (const [field, value] of Object.entries(requester)) {
      if (value.length > MAX_LABEL_CHARS || [...value].some((c) => c.charCodeAt(0) < 0x20)) {
        throw new TakoError(
          "INVALID_ARGUMENT",
          `${field} must be at most ${MAX_LABEL_CHARS} printable characters`,
        );
      }
    }
    const hosts = [...new Map(hostInputs.map((h) => parseCertHost(h)).map((h) => [h.key, h])).values()];
    const results = await Promise.allSettled(hosts.map((host) => this.#ensureOne(host, requester)));
    const failures = results.flatMap((r) => (r.status === "rejected" ? [asTakoError(r.reason)] : []));
    if (failures.length > 0) throw combine(failures);
    return results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  }

  async #ensureOne(host: CertHost, requester: Requester): Promise<CertificateRecord> {
    const existing = this.#o.store.get(host.key);
    const wanted = this.#sourceFor(host);
    if (existing?.state === "issued") {
      const { notAfterMs } = existing.cert.facts;
      const alive = notAfterMs > this.#now();
      // An ACME certificate stays in use until it expires; renewing it is the loop's job.
      if (existing.meta.source === "acme" && alive) {
        if (this.#due(existing, this.#o.policy.renewBeforeMs)) this.#o.wakeRenewals();
        return existing;
      }
      if (wanted === "self-signed" && !this.#due(existing, this.#o.policy.renewBeforeMs)) return existing;
    }
    return this.#obtain(host, requester);
  }

  /**
   * RenewCertificates: the listed hosts whatever their expiry, or every ACME certificate due
   * within `withinMs` (0: the configured window). Ignores the backoff: an operator asked.
   */
  async renew(request: { readonly withinMs: number; readonly hosts: readonly string[] }) {
    let targets: CertHost[];
    if (request.hosts.length > 0) {
      checkHostCount(request.hosts);
      targets = request.hosts.map((h) => parseCertHost(h));
      for (const host of targets) {
        if (!this.#o.store.get(host.key)) {
          throw new TakoError("CERT_NOT_FOUND", `certd holds no certificate for ${host.name}`, {
            metadata: { host: host.name },
          });
        }
      }
    } else {
      const windowMs = request.withinMs > 0 ? request.withinMs : this.#o.policy.renewBeforeMs;
      if (!this.#o.issuer) return [];
      targets = this.#o.store
        .all()
        .filter((r) => !r.meta.isDefault && r.meta.source === "acme" && this.#due(r, windowMs))
        .map((r) => parseCertHost(hostOfKey(r.meta.key) ?? ""));
    }
    const results = await Promise.allSettled(
      targets.map((host) => {
        const meta = this.#o.store.get(host.key)?.meta;
        return this.#obtain(host, { app: meta?.app ?? "", env: meta?.env ?? "" });
      }),
    );
    const failures = results.flatMap((r) => (r.status === "rejected" ? [asTakoError(r.reason)] : []));
    if (failures.length > 0) throw combine(failures);
    return results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  }

  /**
   * One pass of the renewal loop: renews what is due and whose backoff has passed. Returns when
   * the earliest postponed retry is due (undefined when none is waiting).
   */
  async renewDue(): Promise<number | undefined> {
    await this.#o.store.refresh();
    await this.ensureDefault();
    let nextRetryMs: number | undefined;
    const postpone = (atMs: number) => {
      nextRetryMs = nextRetryMs === undefined ? atMs : Math.min(nextRetryMs, atMs);
    };
    for (const record of this.#o.store.all()) {
      if (record.meta.isDefault || this.#o.signal.aborted) continue;
      if (!this.#due(record, this.#o.policy.renewBeforeMs)) continue;
      if (record.meta.source === "acme" && !this.#o.issuer) continue; // --no-acme: leave it as is
      if (record.meta.renewal.nextAttemptMs > this.#now()) {
        postpone(record.meta.renewal.nextAttemptMs);
        continue;
      }
      const host = parseCertHost(hostOfKey(record.meta.key) ?? "");
      this.#o.log.info("renewing certificate", {
        host: host.name,
        notAfter: record.state === "issued" ? new Date(record.cert.facts.notAfterMs) : undefined,
        failures: record.meta.renewal.failures,
      });
      try {
        await this.#obtain(host, { app: record.meta.app, env: record.meta.env });
      } catch {
        const next = this.#o.store.get(record.meta.key)?.meta.renewal.nextAttemptMs;
        if (next) postpone(next);
      }
    }
    return nextRetryMs;
  }

  /** After DNS credentials for `zone` changed: retry its failing wildcards now. */
  async retryZone(zone: string): Promise<void> {
    for (const record of this.#o.store.all()) {
      const host = hostOfKey(record.meta.key);
      if (!host || record.meta.renewal.failures === 0) continue;
      const base = host.startsWith("*.") ? host.slice(2) : host;
      if (base !== zone && !base.endsWith(`.${zone}`)) continue;
      await this.#o.store.saveMeta({ ...record.meta, renewal: { ...record.meta.renewal, nextAttemptMs: 0 } });
    }
    this.#o.wakeRenewals();
  }

  /** Runs `work` once per key at a time; concurrent callers share the result. */
  #once(key: string, work: () => Promise<CertificateRecord>): Promise<CertificateRecord> {
    const running = this.#inflight.get(key);
    if (running) return running;
    const promise = work().finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, promise);
    return promise;
  }

  #obtain(host: CertHost, requester: Requester): Promise<CertificateRecord> {
    return this.#once(host.key, async () => {
      const { store, issuer, log } = this.#o;
      const existing = store.get(host.key);
      const source = this.#sourceFor(host);
      const meta: CertificateMeta = {
        key: host.key,
        isDefault: false,
        source,
        names: [host.name],
        app: existing?.meta.app || requester.app,
        env: existing?.meta.env || requester.env,
        renewal: FRESH_RENEWAL,
      };
      if (source === "self-signed" || !issuer) {
        const chain = await createSelfSigned({
          names: [host.name],
          validityMs: this.#selfSignedValidityMs,
          now: this.#now(),
        });
        const record = await store.saveIssued(meta, chain);
        log.info("self-signed certificate created", { host: host.name, app: meta.app, env: meta.env });
        return record;
      }
      const attemptMs = this.#now();
      try {
        if (host.wildcard && !providerForName(await this.#o.providers.all(), host.base)) {
          throw new TakoError(
            "DNS_PROVIDER_MISSING",
            `the wildcard certificate ${host.name} needs DNS-01 credentials for its zone, and none cover ${host.base}`,
            { metadata: { host: host.name } },
          );
        }
        const chain = await issuer.issue(host, this.#o.signal);
        const record = await store.saveIssued(
          { ...meta, renewal: { ...FRESH_RENEWAL, lastAttemptMs: attemptMs } },
          chain,
        );
        const facts = record.state === "issued" ? record.cert.facts : undefined;
        log.info("certificate issued", {
          host: host.name,
          issuer: facts?.issuer,
          notAfter: facts ? new Date(facts.notAfterMs) : undefined,
        });
        return record;
      } catch (err) {
        const error = asTakoError(err);
        // certd is stopping: that is no failure of the order; the next start tries again.
        if (this.#o.signal.aborted) throw error;
        const failures = (existing?.meta.renewal.failures ?? 0) + 1;
        const retryInMs = retryDelayMs(failures, this.#o.policy);
        // The certificate in use (if any) stays; the failure is recorded next to it.
        await store
          .saveMeta({
            ...meta,
            renewal: {
              lastError: error.message,
              failures,
              lastAttemptMs: attemptMs,
              nextAttemptMs: attemptMs + retryInMs,
            },
          })
          .catch((saveErr: unknown) =>
            log.error("cannot record a failed order", { host: host.name, error: saveErr }),
          );
        log.error("certificate order failed", {
          host: host.name,
          reason: error.reason,
          error: error.message,
          failures,
          retryInMs,
          keptCertificate: existing?.state === "issued",
        });
        throw error;
      }
    });
  }
}
