import type { IncomingMessage, ServerResponse } from "node:http";

/** Host of requests meant for the SDK itself (the supervisor's health probe), never the app. */
export const INTERNAL_HOST = "tako.internal";
/** Header carrying the per-instance token; the SDK echoes it only to a request that carried it. */
export const TOKEN_HEADER = "x-tako-internal-token";

export type InstanceStatus = "starting" | "healthy" | "draining";

/** Body of a successful `GET /status`. The supervisor reads the traffic counters for idle-out. */
export interface StatusBody {
  readonly status: InstanceStatus;
  readonly app: string;
  readonly version: string;
  readonly instance_id: string;
  readonly pid: number;
  readonly uptime_seconds: number;
  /** Requests the app has answered or is answering (probes excluded). */
  readonly requests_total: number;
  readonly inflight: number;
  /** Milliseconds since the last app request finished (since start when there was none). */
  readonly idle_ms: number;
}

/** Whether a request is addressed to the SDK (Host `tako.internal`, any case, any port). */
export function isInternalRequest(req: IncomingMessage): boolean {
  const host = req.headers.host;
  if (host === undefined) return false;
  const colon = host.lastIndexOf(":");
  const name = (colon > 0 && !host.endsWith("]") ? host.slice(0, colon) : host).toLowerCase();
  return name === INTERNAL_HOST;
}

/** Compares in time independent of where the strings differ. */
export function tokensEqual(given: string, expected: string): boolean {
  if (given.length !== expected.length) return false;
  let diff = 0;
  for (let i = 0; i < given.length; i++) diff |= given.charCodeAt(i) ^ expected.charCodeAt(i);
  return diff === 0;
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

/**
 * Answers a request to the internal host. Only `GET /status` with the right token gets 200 and
 * the token echoed back; a wrong or missing token gets 403 with nothing echoed, so an app's own
 * `/status` route (or anything else answering on the port) can never pass the probe.
 */
export function answerInternal(
  req: IncomingMessage,
  res: ServerResponse,
  token: string,
  status: () => StatusBody,
): void {
  const given = req.headers[TOKEN_HEADER];
  if (typeof given !== "string" || !tokensEqual(given, token)) {
    json(res, 403, { error: "Forbidden" });
    return;
  }
  const path = (req.url ?? "/").split("?", 1)[0];
  if (path !== "/status") {
    json(res, 404, { error: "Not Found" });
    return;
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    json(res, 405, { error: "Method Not Allowed" }, { allow: "GET, HEAD" });
    return;
  }
  json(res, 200, status(), { [TOKEN_HEADER]: token });
}
