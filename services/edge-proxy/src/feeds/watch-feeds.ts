import type { Logger } from "@tako/daemon";
import { CertService, SupervisorService } from "@tako/proto";
import { createRpcChannel, createRpcClient, followStream, type RpcChannel } from "@tako/rpc";
import type { ChallengeUpdate } from "../acme/challenge-store.js";
import type { CertificateUpdate } from "../tls/certificate-store.js";
import type { EndpointUpdate } from "../upstream/endpoint-state.js";

export interface WatchFeedsOptions {
  readonly supervisorSocket: string;
  readonly certdSocket: string;
  readonly log: Logger;
  readonly onEndpoints: (update: EndpointUpdate) => void;
  readonly onCertificates: (update: CertificateUpdate) => void;
  readonly onChallenges: (update: ChallengeUpdate) => void;
}

export type FeedName = "endpoints" | "certificates" | "challenges";

/**
 * Follows the three watch streams the edge lives on: the supervisor's healthy endpoints and
 * certd's certificates and HTTP-01 challenges. Each reconnects on its own after the other daemon
 * reloads or restarts; every (re)connection starts with a snapshot. Messages are converted to
 * plain data here, so nothing past this file sees protobuf types.
 */
export class WatchFeeds {
  readonly #options: WatchFeedsOptions;
  readonly #channels: RpcChannel[] = [];
  readonly #loops: Promise<void>[] = [];
  readonly #connected = new Set<FeedName>();

  constructor(options: WatchFeedsOptions) {
    this.#options = options;
  }

  /** Feeds whose stream is open right now. */
  get connected(): ReadonlySet<FeedName> {
    return this.#connected;
  }

  start(signal: AbortSignal): void {
    const { log } = this.#options;
    // Watches never end on their own: no call deadline.
    const supervisor = createRpcChannel(this.#options.supervisorSocket, { timeoutMs: 0 });
    const certd = createRpcChannel(this.#options.certdSocket, { timeoutMs: 0 });
    this.#channels.push(supervisor, certd);
    const supervisorClient = createRpcClient(SupervisorService, supervisor);
    const certClient = createRpcClient(CertService, certd);
    const onError = (feed: FeedName) => (err: Error, attempt: number) => {
      this.#connected.delete(feed);
      // The first failure of a run is worth a line; the retries after it are not.
      if (attempt === 0) log.warn("watch interrupted; reconnecting", { feed, error: err.message });
    };
    const mark = (feed: FeedName) => this.#connected.add(feed);

    this.#loops.push(
      followStream({
        signal,
        open: (s) => supervisorClient.watchEndpoints({}, { signal: s }),
        onError: onError("endpoints"),
        onMessage: (m) => {
          mark("endpoints");
          this.#options.onEndpoints({
            snapshot: m.snapshot,
            removed: [...m.removed],
            apps: m.apps.map((a) => ({
              app: a.app,
              env: a.env,
              desiredInstances: a.desiredInstances,
              releaseDir: a.releaseDir,
              endpoints: a.endpoints.map((e) => ({ instanceId: e.instanceId, host: e.host, port: e.port })),
            })),
          });
        },
      }),
      followStream({
        signal,
        open: (s) => certClient.watchCertificates({}, { signal: s }),
        onError: onError("certificates"),
        onMessage: (m) => {
          mark("certificates");
          this.#options.onCertificates({
            snapshot: m.snapshot,
            removed: [...m.removed],
            upserted: m.upserted.map((c) => ({
              names: [...(c.info?.names ?? [])],
              certChainPem: c.certChainPem,
              privateKeyPem: c.privateKeyPem,
              isDefault: c.isDefault,
            })),
          });
        },
      }),
      followStream({
        signal,
        open: (s) => certClient.watchChallenges({}, { signal: s }),
        onError: onError("challenges"),
        onMessage: (m) => {
          mark("challenges");
          this.#options.onChallenges({
            snapshot: m.snapshot,
            removed: [...m.removed],
            added: m.added.map((c) => ({ token: c.token, keyAuthorization: c.keyAuthorization })),
          });
        },
      }),
    );
  }

  /** Resolves once every loop ended (after the start signal aborted). */
  async stop(): Promise<void> {
    await Promise.all(this.#loops);
    for (const channel of this.#channels) channel.close();
  }
}
