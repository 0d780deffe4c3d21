import type { IncomingMessage, ServerResponse } from "node:http";
import type { ChallengeStore } from "../acme/challenge-store.js";
import type { EdgeMetrics } from "../metrics/edge-metrics.js";
import { sendPlain } from "./plain-response.js";
import { requestIdFor } from "./request-id.js";
import { hostOf } from "./request-target.js";

const ACME_PREFIX = "/.well-known/acme-challenge/";

export interface RedirectHandlerDeps {
  readonly challenges: ChallengeStore;
  readonly httpsPort: number;
  readonly metrics: EdgeMetrics;
}

/**
 * The plain-HTTP listener: answers ACME HTTP-01 challenges from certd's pending set (before any
 * host check: the CA asks for hosts not routed yet), and redirects everything else to HTTPS
 * with 307, keeping method, path and query.
 */
export function createRedirectHandler(deps: RedirectHandlerDeps) {
  const portSuffix = deps.httpsPort === 443 ? "" : `:${deps.httpsPort}`;
  return (req: IncomingMessage, res: ServerResponse): void => {
    const startedAt = performance.now();
    res.once("close", () => deps.metrics.request("", res.statusCode, (performance.now() - startedAt) / 1000));
    res.setHeader("x-request-id", requestIdFor(req.headers["x-request-id"]));
    const url = req.url ?? "/";
    if (url.startsWith(ACME_PREFIX)) {
      const end = url.indexOf("?");
      const token = url.slice(ACME_PREFIX.length, end === -1 ? undefined : end);
      const keyAuthorization = deps.challenges.keyAuthorization(token);
      if (keyAuthorization === undefined) {
        sendPlain(res, 404, "Token not found");
        return;
      }
      sendPlain(res, 200, keyAuthorization);
      return;
    }
    const host = hostOf(req);
    if (host === undefined) {
      sendPlain(res, 400, "Bad Request");
      return;
    }
    const target = url.startsWith("/") ? url : "/";
    sendPlain(res, 307, "Redirecting to HTTPS", {
      location: `https://${host}${portSuffix}${target}`,
      "cache-control": "no-store",
    });
  };
}
