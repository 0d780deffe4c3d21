import type { Logger } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import * as acme from "acme-client";
import type { CertHost } from "../names/cert-host.js";
import type { KeyAndChain } from "../tls/self-signed.js";
import type { AcmeAccount } from "./acme-account.js";

export type ChallengeType = "http-01" | "dns-01";

/**
 * Makes one challenge answerable (an HTTP-01 token on the edge, a DNS-01 TXT record) and
 * resolves once it is; returns the function that withdraws it again.
 */
export interface ChallengeSolver {
  present(
    domain: string,
    token: string,
    keyAuthorization: string,
    signal: AbortSignal,
  ): Promise<() => Promise<void>>;
}

export interface AcmeIssuerOptions {
  readonly account: AcmeAccount;
  readonly solvers: Readonly<Record<ChallengeType, ChallengeSolver>>;
  readonly orderTimeoutMs: number;
  readonly log: Logger;
}

/** How CAs (Boulder, pebble) say the account URL we sent is unknown (RFC 8555 accountDoesNotExist). */
const ACCOUNT_GONE = /account .*(not found|does not exist)|accountDoesNotExist|no account exists/i;

/** Longest common name X.509 allows; longer names go in subjectAltName only. */
const MAX_COMMON_NAME_CHARS = 64;

/** Races a promise with an abort signal; the loser's outcome is consumed, never left floating. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(err);
      },
    );
  });
}

/** The CA's own words for a failure: acme-client puts the problem document's detail in the message. */
function caReason(err: unknown): string {
  if (err instanceof Error && err.name === "TimeoutError") return "the order did not complete in time";
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s+/g, " ").trim() || "unknown error";
}

/**
 * Runs ACME orders with acme-client: one order per host, HTTP-01 for exact names and DNS-01 for
 * wildcards, a fresh ECDSA P-256 key per certificate. Every challenge it published is withdrawn
 * again, whether the order succeeds or not.
 */
export class AcmeIssuer {
  readonly #options: AcmeIssuerOptions;

  constructor(options: AcmeIssuerOptions) {
    this.#options = options;
  }

  get directoryUrl(): string {
    return this.#options.account.directoryUrl;
  }

  /** Throws CERT_ISSUE_FAILED with the CA's reason, or the solver's own TakoError (DNS provider). */
  async issue(host: CertHost, signal: AbortSignal): Promise<KeyAndChain> {
    const timeout = AbortSignal.timeout(this.#options.orderTimeoutMs);
    const orderSignal = AbortSignal.any([signal, timeout]);
    try {
      return await abortable(this.#order(host, orderSignal), orderSignal);
    } catch (err) {
      if (TakoError.is(err)) throw err;
      const reason = timeout.aborted
        ? `no certificate within ${this.#options.orderTimeoutMs} ms`
        : caReason(err);
      throw new TakoError("CERT_ISSUE_FAILED", `no certificate was issued for ${host.name}: ${reason}`, {
        metadata: { host: host.name, caReason: reason },
        cause: err,
      });
    }
  }

  async #order(host: CertHost, signal: AbortSignal): Promise<KeyAndChain> {
    const log = this.#options.log.child({ host: host.name });
    let client = await this.#options.account.client();
    const [keyPem, csr] = await acme.crypto.createCsr(
      {
        altNames: [host.name],
        ...(host.name.length <= MAX_COMMON_NAME_CHARS ? { commonName: host.name } : {}),
      },
      await acme.crypto.createPrivateEcdsaKey("P-256"),
    );
    let order: acme.Order;
    try {
      order = await client.createOrder({ identifiers: [{ type: "dns", value: host.name }] });
    } catch (err) {
      if (!ACCOUNT_GONE.test(caReason(err))) throw err;
      await this.#options.account.forget();
      client = await this.#options.account.client();
      order = await client.createOrder({ identifiers: [{ type: "dns", value: host.name }] });
    }
    log.info("acme order created", { order: order.url });
    for (const authz of await client.getAuthorizations(order)) {
      if (authz.status === "valid") continue; // the CA reused an earlier validation
      if (authz.status !== "pending") {
        throw new Error(`the CA's authorization for ${authz.identifier.value} is ${authz.status}`);
      }
      const type: ChallengeType = authz.wildcard || host.wildcard ? "dns-01" : "http-01";
      const challenge = authz.challenges.find((c) => c.type === type);
      if (!challenge) throw new Error(`the CA offers no ${type} challenge for ${authz.identifier.value}`);
      const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
      signal.throwIfAborted();
      const withdraw = await this.#options.solvers[type].present(
        authz.identifier.value,
        challenge.token,
        keyAuthorization,
        signal,
      );
      try {
        signal.throwIfAborted();
        await client.completeChallenge(challenge);
        await client.waitForValidStatus(challenge);
        log.info("acme challenge valid", { type });
      } finally {
        await withdraw().catch((err: unknown) =>
          log.warn("could not withdraw an acme challenge", { type, error: caReason(err) }),
        );
      }
    }
    signal.throwIfAborted();
    order = await client.finalizeOrder(order, csr);
    const chainPem = await client.getCertificate(order);
    return { chainPem, keyPem: keyPem.toString() };
  }
}
