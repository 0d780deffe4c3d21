import { mkdir, readFile } from "node:fs/promises";
import { Agent } from "node:https";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import type { Logger } from "@tako/daemon";
import { isErrno } from "@tako/rpc";
import * as acme from "acme-client";
import { createFileExclusive, writeFileAtomic } from "../store/atomic-file.js";

export interface AcmeAccountOptions {
  /** certsDir/acme: account-key.pem (0600) and account.json. */
  readonly dir: string;
  readonly directoryUrl: string;
  readonly email: string | undefined;
  /** Extra PEM CA certificates trusted for the ACME server's TLS (pebble's own certificate in tests). */
  readonly extraCaPem: string | undefined;
  readonly log: Logger;
}

interface AccountFile {
  readonly version: 1;
  /** Account URL per ACME directory: the same key registers once with each CA. */
  readonly accounts: Readonly<Record<string, string>>;
}

const ACCOUNT_KEY = "account-key.pem";
const ACCOUNT_FILE = "account.json";
/** Per HTTP request to the CA. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * acme-client talks through one process-wide axios instance: set its TLS trust (system roots
 * plus the configured extra CA), a request timeout, and route its debug lines to our log.
 */
function configureHttp(options: AcmeAccountOptions): void {
  const ca = [...rootCertificates, ...(options.extraCaPem ? [options.extraCaPem] : [])];
  acme.axios.defaults.httpsAgent = new Agent({ ca, keepAlive: true });
  acme.axios.defaults.timeout = REQUEST_TIMEOUT_MS;
  acme.setLogger((line) => options.log.debug("acme-client", { line }));
}

/**
 * The host's ACME account: one ECDSA key (created once, 0600), registered with the configured
 * CA on first use (terms of service agreed), its URL remembered so later starts skip that step.
 */
export class AcmeAccount {
  readonly #options: AcmeAccountOptions;
  #client: Promise<acme.Client> | undefined;

  constructor(options: AcmeAccountOptions) {
    this.#options = options;
  }

  get directoryUrl(): string {
    return this.#options.directoryUrl;
  }

  /** A registered client; a failed registration is retried on the next call. */
  client(): Promise<acme.Client> {
    this.#client ??= this.#register().catch((err: unknown) => {
      this.#client = undefined;
      throw err;
    });
    return this.#client;
  }

  /**
   * Forgets the remembered account URL (the CA says it no longer exists: a development CA was
   * reset, or the account was deactivated); the next client() registers the key again.
   */
  async forget(): Promise<void> {
    this.#client = undefined;
    const accounts = await this.#readAccounts();
    if (!(this.#options.directoryUrl in accounts)) return;
    delete accounts[this.#options.directoryUrl];
    await this.#writeAccounts(accounts);
    this.#options.log.warn("the CA no longer knows the ACME account; registering again", {
      directoryUrl: this.#options.directoryUrl,
    });
  }

  async #writeAccounts(accounts: Record<string, string>): Promise<void> {
    await writeFileAtomic(
      join(this.#options.dir, ACCOUNT_FILE),
      `${JSON.stringify({ version: 1, accounts } satisfies AccountFile, null, 2)}\n`,
      0o600,
    );
  }

  async #accountKey(): Promise<string> {
    const path = join(this.#options.dir, ACCOUNT_KEY);
    const created = (await acme.crypto.createPrivateEcdsaKey()).toString();
    // Concurrent first starts (a reload) agree on whichever key was linked first.
    if (await createFileExclusive(path, created, 0o600)) {
      this.#options.log.info("created the ACME account key");
    }
    return readFile(path, "utf8");
  }

  async #readAccounts(): Promise<Record<string, string>> {
    try {
      const file = JSON.parse(await readFile(join(this.#options.dir, ACCOUNT_FILE), "utf8")) as AccountFile;
      return file.version === 1 && typeof file.accounts === "object" ? { ...file.accounts } : {};
    } catch (err) {
      if (isErrno(err, "ENOENT") || err instanceof SyntaxError) return {};
      throw err;
    }
  }

  async #register(): Promise<acme.Client> {
    const { dir, directoryUrl, email, log } = this.#options;
    await mkdir(dir, { recursive: true, mode: 0o700 });
    configureHttp(this.#options);
    const accountKey = await this.#accountKey();
    const accounts = await this.#readAccounts();
    const known = accounts[directoryUrl];
    // Polling of pending orders: first look after 0.5 s, then doubling up to 10 s (about 100 s
    // in all); the order timeout bounds the whole order anyway.
    const backoff = { backoffAttempts: 14, backoffMin: 500, backoffMax: 10_000 };
    const client = new acme.Client({
      directoryUrl,
      accountKey,
      ...backoff,
      ...(known ? { accountUrl: known } : {}),
    });
    if (known) return client;
    await client.createAccount({
      termsOfServiceAgreed: true,
      ...(email ? { contact: [`mailto:${email}`] } : {}),
    });
    accounts[directoryUrl] = client.getAccountUrl();
    await this.#writeAccounts(accounts);
    log.info("registered the ACME account", { directoryUrl, accountUrl: accounts[directoryUrl] });
    return client;
  }
}
