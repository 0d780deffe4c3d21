import type { Client } from "@connectrpc/connect";
import { type CertificateBundle, CertService } from "@tako/proto";
import { createRpcChannel, createRpcClient, followStream } from "@tako/rpc";

export type CertClient = Client<typeof CertService>;

export function certClient(socket: string): { client: CertClient; close: () => void } {
  const channel = createRpcChannel(socket, { timeoutMs: 120_000 });
  return { client: createRpcClient(CertService, channel), close: () => channel.close() };
}

export interface CertificateWatcher {
  /** The consumer's table: first name → bundle, as the edge would hold it. */
  readonly bundles: ReadonlyMap<string, CertificateBundle>;
  snapshots(): number;
  stop(): Promise<void>;
}

/** Follows WatchCertificates like the edge does (reconnecting, replacing the table on each snapshot). */
export function watchCertificates(socket: string): CertificateWatcher {
  const channel = createRpcChannel(socket, { timeoutMs: 0 });
  const client = createRpcClient(CertService, channel);
  const bundles = new Map<string, CertificateBundle>();
  let snapshots = 0;
  const abort = new AbortController();
  const following = followStream({
    signal: abort.signal,
    open: (signal) => client.watchCertificates({}, { signal }),
    onMessage: (message) => {
      if (message.snapshot) {
        bundles.clear();
        snapshots++;
      }
      for (const b of message.upserted) bundles.set(b.info?.names[0] ?? "", b);
      for (const name of message.removed) bundles.delete(name);
    },
  });
  return {
    bundles,
    snapshots: () => snapshots,
    async stop() {
      abort.abort();
      await following;
      channel.close();
    },
  };
}
