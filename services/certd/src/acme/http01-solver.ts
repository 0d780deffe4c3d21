import { request } from "node:http";
import type { Logger } from "@tako/daemon";
import type { ChallengeStore } from "../store/challenge-store.js";
import type { ChallengeSolver } from "./acme-issuer.js";

export interface Http01SolverOptions {
  readonly challenges: ChallengeStore;
  /** The edge's HTTP port on this host. */
  readonly httpPort: number;
  /** How long to wait for the edge to serve a new token before asking the CA anyway. */
  readonly readinessTimeoutMs?: number;
  readonly log: Logger;
}

/** GET the token from the local edge the way the CA will, with the host's name in Host. */
function fetchToken(port: number, domain: string, token: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: `/.well-known/acme-challenge/${token}`,
        headers: { host: domain },
        timeout: 2_000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          if (body.length < 4096) body += chunk;
        });
        res.on("end", () => resolve(res.statusCode === 200 ? body.trim() : undefined));
        res.on("error", () => resolve(undefined));
      },
    );
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(undefined));
    req.end();
  });
}

/**
 * HTTP-01: publishes the token on WatchChallenges (through the challenge store) and waits until
 * the edge serves it on this host's HTTP port, so the CA does not look before the edge has
 * received it. If the edge never answers (it listens elsewhere, say) the CA is asked anyway:
 * the CA's verdict, with its reason, is what counts.
 */
export class Http01Solver implements ChallengeSolver {
  readonly #options: Http01SolverOptions;

  constructor(options: Http01SolverOptions) {
    this.#options = options;
  }

  async present(domain: string, token: string, keyAuthorization: string, signal: AbortSignal) {
    const { challenges, httpPort, log } = this.#options;
    await challenges.add({ token, keyAuthorization, host: domain });
    const deadline = Date.now() + (this.#options.readinessTimeoutMs ?? 10_000);
    let served = false;
    while (!served && Date.now() < deadline && !signal.aborted) {
      served = (await fetchToken(httpPort, domain, token)) === keyAuthorization;
      if (!served) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (!served) {
      log.warn("the edge does not serve the HTTP-01 challenge; asking the CA anyway", {
        host: domain,
        httpPort,
      });
    }
    return () => challenges.remove(token);
  }
}
