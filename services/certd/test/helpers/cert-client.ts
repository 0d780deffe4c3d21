import type { Client } from "@connectrpc/connect";
import { type CertificateBundle, CertService } from "@tako/proto";
import { createRpcChannel, createRpcClient, followStream } from "@tako/rpc";

export type CertClient = Client<typeof CertService>;

export function certClient(socket: string): { client: CertClient; close: () => void } {
  const channel = createRpcChannel(socket, { timeoutMs: 120_000 });
  return { client: createRpcClient(CertService, channel), close: () => channel.close() };
}

/**
 * Follows one of certd's watch streams like a real consumer (reconnecting across reloads, each
 * connection starting with a snapshot) until the returned stop function is called.
 */
export function followCertd<T>(
  socket: string,
  open: (client: CertClient, signal: AbortSignal) => AsyncIterable<T>,
  onMessage: (message: T) => void,
): () => Promise<void> {
  const channel = createRpcChannel(socket, { timeoutMs: 0 });
  const client = createRpcClient(CertService, channel);
  const abort = new AbortController();
  const following = followStream({ signal: abort.signal, open: (signal) => open(client, signal), onMessage });
  return async () => {
    abort.abort();
    await following;
    channel.close();
  };
}

export interface CertificateWatcher {
  /** The consumer's table: first name → bundle, as the edge would hold it. */
  readonly bundles: ReadonlyMap<string, CertificateBundle>;
  snapshots(): number;
  stop(): Promise<void>;
}

/** Follows WatchCertificates like the edge does (the table is replaced on each snapshot). */
export function watchCertificates(socket: string): CertificateWatcher {
  const bundles = new Map<string, CertificateBundle>();
  let snapshots = 0;
  const stop = followCertd(
    socket,
    (client, signal) => client.watchCertificates({}, { signal }),
    (message) => {
      if (message.snapshot) {
        bundles.clear();
        snapshots++;
      }
      for (const b of message.upserted) bundles.set(b.info?.names[0] ?? "", b);
      for (const name of message.removed) bundles.delete(name);
    },
  );
  return { bundles, snapshots: () => snapshots, stop };
}

export interface ChallengeWatcher {
  /** Pending challenges, token → key authorization, as the edge would answer them. */
  readonly tokens: ReadonlyMap<string, string>;
  snapshots(): number;
  stop(): Promise<void>;
}

/** Follows WatchChallenges like the edge does (the table is replaced on each snapshot). */
export function watchChallenges(socket: string): ChallengeWatcher {
  const tokens = new Map<string, string>();
  let snapshots = 0;
  const stop = followCertd(
    socket,
    (client, signal) => client.watchChallenges({}, { signal }),
    (message) => {
      if (message.snapshot) {
        tokens.clear();
        snapshots++;
      }
      for (const c of message.added) tokens.set(c.token, c.keyAuthorization);
      for (const token of message.removed) tokens.delete(token);
    },
  );
  return { tokens, snapshots: () => snapshots, stop };
}
