import { request } from "node:http";

/** Host header of the probe: the SDK answers it itself; an app never sees it. */
export const PROBE_HOST = "tako.internal";
export const TOKEN_HEADER = "x-tako-internal-token";
const MAX_BODY_BYTES = 64 * 1024;

/** Traffic counters an SDK reports in its /status body (used to stop idle instances). */
export interface TrafficReport {
  readonly requestsTotal: number;
  readonly inflight: number;
  readonly idleMs: number;
}

export type ProbeResult =
  | { readonly ok: true; readonly traffic: TrafficReport | undefined }
  | { readonly ok: false; readonly reason: string };

function trafficOf(body: string): TrafficReport | undefined {
  try {
    const o = JSON.parse(body) as Record<string, unknown>;
    const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : undefined);
    const requestsTotal = n(o.requests_total);
    const inflight = n(o.inflight);
    const idleMs = n(o.idle_ms);
    if (requestsTotal === undefined || inflight === undefined || idleMs === undefined) return undefined;
    return { requestsTotal, inflight, idleMs };
  } catch {
    return undefined;
  }
}

/**
 * One health probe over loopback: `GET /status` with `Host: tako.internal` and the instance's
 * token. Healthy only if the status is 2xx and the response echoes the same token, so an app's
 * own `/status` route, or any other process that took the port, cannot pass.
 */
export function probe(port: number, token: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: ProbeResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/status",
        method: "GET",
        agent: false,
        headers: { host: PROBE_HOST, [TOKEN_HEADER]: token, connection: "close" },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) {
          res.resume();
          return done({ ok: false, reason: `GET /status answered ${status}` });
        }
        if (res.headers[TOKEN_HEADER] !== token) {
          res.resume();
          return done({ ok: false, reason: "GET /status did not echo the instance token" });
        }
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
          if (body.length > MAX_BODY_BYTES) done({ ok: true, traffic: undefined });
        });
        res.on("end", () => done({ ok: true, traffic: trafficOf(body) }));
        res.on("error", () => done({ ok: true, traffic: undefined }));
      },
    );
    const timer = setTimeout(
      () => done({ ok: false, reason: `GET /status took longer than ${timeoutMs} ms` }),
      timeoutMs,
    );
    req.on("error", (err: NodeJS.ErrnoException) =>
      done({ ok: false, reason: `GET /status failed: ${err.code ?? err.message}` }),
    );
    req.end();
  });
}
