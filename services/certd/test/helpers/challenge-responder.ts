import { createServer, type Server } from "node:http";
import { watchChallenges } from "./cert-client.js";

export interface ServedChallenge {
  readonly token: string;
  readonly host: string;
  readonly userAgent: string;
}

export interface ChallengeResponder {
  /** Tokens currently answered (the consumer's view of WatchChallenges). */
  readonly tokens: ReadonlyMap<string, string>;
  /** Every successful answer, in order. */
  readonly served: readonly ServedChallenge[];
  /** Snapshots received: one per (re)connection of the watch. */
  snapshots(): number;
  stop(): Promise<void>;
}

/**
 * Stands in for edge-proxy's HTTP-01 answers: follows certd's WatchChallenges stream (snapshot,
 * then changes, reconnecting across reloads) and answers GET /.well-known/acme-challenge/<token>
 * on the port pebble validates on, the way the edge does (unknown token: 404 "Token not found").
 */
export async function startChallengeResponder(options: {
  readonly port: number;
  readonly certdSocket: string;
}): Promise<ChallengeResponder> {
  const watcher = watchChallenges(options.certdSocket);
  const { tokens } = watcher;
  const served: ServedChallenge[] = [];
  const server: Server = createServer((req, res) => {
    const token = /^\/\.well-known\/acme-challenge\/([A-Za-z0-9_-]+)$/.exec(req.url ?? "")?.[1];
    const keyAuthorization = token ? tokens.get(token) : undefined;
    if (!token || keyAuthorization === undefined) {
      res.writeHead(404, { "content-type": "text/plain" }).end("Token not found");
      return;
    }
    served.push({ token, host: req.headers.host ?? "", userAgent: req.headers["user-agent"] ?? "" });
    res.writeHead(200, { "content-type": "text/plain" }).end(keyAuthorization);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, "127.0.0.1", () => resolve());
    });
  } catch (err) {
    await watcher.stop();
    throw err;
  }
  return {
    tokens,
    served,
    snapshots: watcher.snapshots,
    async stop() {
      await watcher.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
