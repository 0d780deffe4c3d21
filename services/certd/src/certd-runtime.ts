import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import { AcmeAccount } from "./acme/acme-account.js";
import { AcmeIssuer } from "./acme/acme-issuer.js";
import { Dns01Solver } from "./acme/dns01-solver.js";
import { Http01Solver } from "./acme/http01-solver.js";
import { CertificateManager } from "./certs/certificate-manager.js";
import { RenewalLoop } from "./certs/renewal-loop.js";
import type { CertdSettings } from "./config.js";
import { DnsCredentials } from "./dns/dns-credentials.js";
import type { DnsProviderEnvironment } from "./dns/dns-provider.js";
import type { CertificateChange } from "./store/certificate-store.js";
import { CertificateStore } from "./store/certificate-store.js";
import { type ChallengeChange, ChallengeStore } from "./store/challenge-store.js";
import { DnsProviderStore } from "./store/dns-provider-store.js";
import { ChangeFeed } from "./watch/change-feed.js";

/** Per request to a DNS provider's API or server. */
const DNS_REQUEST_TIMEOUT_MS = 30_000;

/** certd's domain, opened: what the RPC handlers work with. */
export interface CertdRuntime {
  readonly store: CertificateStore;
  readonly challenges: ChallengeStore;
  readonly manager: CertificateManager;
  readonly dnsCredentials: DnsCredentials;
  readonly certificateChanges: ChangeFeed<CertificateChange>;
  readonly challengeChanges: ChangeFeed<ChallengeChange>;
  /** Stops the renewal loop (abandoning orders in flight) and the directory watches. */
  stop(): Promise<void>;
}

export interface CertdRuntimeOptions {
  readonly settings: CertdSettings;
  /** paths.certsDir. */
  readonly certsDir: string;
  readonly log: Logger;
  /** The daemon's lifetime. */
  readonly signal: AbortSignal;
}

async function readCaFile(path: string | undefined): Promise<string | undefined> {
  if (!path) return undefined;
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new TakoError(
      "CONFIG_INVALID",
      `certd: cannot read --acme-ca-file ${path}: ${(err as Error).message}`,
    );
  }
}

/**
 * Builds and opens certd's parts: loads what is stored, makes sure a default certificate exists,
 * and starts the renewal loop. Resolves once the daemon can serve.
 */
export async function openCertdRuntime(options: CertdRuntimeOptions): Promise<CertdRuntime> {
  const { settings, certsDir, log } = options;
  const stopping = new AbortController();
  const signal = AbortSignal.any([options.signal, stopping.signal]);
  const store = new CertificateStore({ dir: certsDir, log });
  const challenges = new ChallengeStore({ dir: join(certsDir, "acme", "challenges"), log });
  const providers = new DnsProviderStore(join(certsDir, "dns-providers.json"));
  const certificateChanges = new ChangeFeed<CertificateChange>();
  const challengeChanges = new ChangeFeed<ChallengeChange>();
  store.onChange((change) => certificateChanges.publish(change));
  challenges.onChange((change) => challengeChanges.publish(change));
  const environment: DnsProviderEnvironment = {
    cloudflareApiUrl: settings.cloudflareApiUrl,
    requestTimeoutMs: DNS_REQUEST_TIMEOUT_MS,
  };
  const issuer = settings.acme
    ? new AcmeIssuer({
        account: new AcmeAccount({
          dir: join(certsDir, "acme"),
          directoryUrl: settings.acme.directoryUrl,
          email: settings.acme.email,
          extraCaPem: await readCaFile(settings.acme.caFile),
          log,
        }),
        solvers: {
          "http-01": new Http01Solver({ challenges, httpPort: settings.httpPort, log }),
          "dns-01": new Dns01Solver({
            providers,
            environment,
            propagationTimeoutMs: settings.dnsPropagationTimeoutMs,
            checkServer: settings.dnsCheckServer,
            log,
          }),
        },
        orderTimeoutMs: settings.acme.orderTimeoutMs,
        log,
      })
    : undefined;
  let loop: RenewalLoop | undefined;
  const manager = new CertificateManager({
    store,
    issuer,
    providers,
    policy: settings,
    log,
    signal,
    wakeRenewals: () => loop?.wake(),
  });
  loop = new RenewalLoop({
    pass: () => manager.renewDue(),
    checkIntervalMs: settings.renewalCheckIntervalMs,
    log,
  });
  const dnsCredentials = new DnsCredentials({
    store: providers,
    environment,
    onChanged: (zone) => manager.retryZone(zone),
    log,
  });

  await store.open();
  await challenges.open();
  await manager.ensureDefault();
  loop.start();
  log.info("certificates loaded", {
    count: store.all().length,
    acme: issuer ? issuer.directoryUrl : "disabled",
  });
  return {
    store,
    challenges,
    manager,
    dnsCredentials,
    certificateChanges,
    challengeChanges,
    async stop() {
      stopping.abort();
      await loop?.stop();
      await store.close();
      await challenges.close();
    },
  };
}
