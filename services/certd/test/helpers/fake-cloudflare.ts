import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { DnsServer } from "@tako/testkit";

export interface CloudflareCall {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

export interface FakeCloudflare {
  /** Base URL, as certd's --cloudflare-api-url takes it. */
  readonly apiUrl: string;
  readonly token: string;
  readonly zoneId: string;
  readonly calls: readonly CloudflareCall[];
  /** TXT records the API currently holds: id → { name, content }. */
  readonly records: ReadonlyMap<string, { name: string; content: string }>;
  stop(): Promise<void>;
}

/**
 * A local stand-in for Cloudflare's REST API v4 (the real one is unreachable from here): the
 * endpoints certd uses (zone lookup by name or id, create and delete DNS records) with Cloudflare's
 * envelope and error shapes, Bearer token checks, and every record change applied to a real DNS
 * server with nsupdate, so pebble validates DNS-01 against actual DNS.
 */
export async function startFakeCloudflare(options: {
  readonly zone: string;
  readonly dns: DnsServer;
}): Promise<FakeCloudflare> {
  const token = randomBytes(20).toString("hex");
  const zoneId = randomBytes(16).toString("hex");
  const calls: CloudflareCall[] = [];
  const records = new Map<string, { name: string; content: string }>();
  const zone = { id: zoneId, name: options.zone, status: "active", name_servers: ["ada.ns.cloudflare.com"] };

  const send = (res: ServerResponse, status: number, body: object) => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };
  const ok = (res: ServerResponse, result: unknown) =>
    send(res, 200, { success: true, errors: [], messages: [], result });
  const fail = (res: ServerResponse, status: number, code: number, message: string) =>
    send(res, status, { success: false, errors: [{ code, message }], messages: [], result: null });

  const readBody = async (req: IncomingMessage): Promise<unknown> => {
    let text = "";
    for await (const chunk of req) text += chunk;
    return text ? JSON.parse(text) : undefined;
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://localhost");
      const body = await readBody(req).catch(() => undefined);
      calls.push({ method: req.method ?? "", path: `${url.pathname}${url.search}`, body });
      if (req.headers.authorization !== `Bearer ${token}`) {
        return fail(res, 403, 9109, "Invalid access token");
      }
      const path = url.pathname.replace(/^\/client\/v4/, "");
      if (req.method === "GET" && path === "/zones") {
        return ok(res, url.searchParams.get("name") === zone.name ? [zone] : []);
      }
      const m = /^\/zones\/([^/]+)(\/dns_records(?:\/([^/]+))?)?$/.exec(path);
      if (!m || m[1] !== zoneId)
        return fail(res, 404, 7003, "Could not route to /zones, perhaps your object identifier is invalid?");
      if (req.method === "GET" && !m[2]) return ok(res, zone);
      if (req.method === "POST" && m[2] && !m[3]) {
        const rec = body as { type?: string; name?: string; content?: string; ttl?: number };
        if (rec?.type !== "TXT" || !rec.name || !rec.content)
          return fail(res, 400, 9000, "DNS name is invalid");
        if (rec.name !== zone.name && !rec.name.endsWith(`.${zone.name}`)) {
          return fail(res, 400, 9005, "Content for TXT record is invalid: name outside the zone");
        }
        await options.dns.nsupdate(zone.name, [
          `update add ${rec.name} ${rec.ttl ?? 60} TXT "${rec.content}"`,
        ]);
        const id = randomBytes(16).toString("hex");
        records.set(id, { name: rec.name, content: rec.content });
        return ok(res, { id, type: "TXT", name: rec.name, content: rec.content, ttl: rec.ttl ?? 1 });
      }
      if (req.method === "DELETE" && m[3]) {
        const rec = records.get(m[3]);
        if (!rec) return fail(res, 404, 81044, "Record does not exist.");
        await options.dns.nsupdate(zone.name, [`update delete ${rec.name} TXT "${rec.content}"`]);
        records.delete(m[3]);
        return ok(res, { id: m[3] });
      }
      return fail(res, 405, 10000, "Method not allowed");
    })().catch((err: unknown) => fail(res, 500, 10001, `fake failure: ${(err as Error).message}`));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    apiUrl: `http://127.0.0.1:${port}/client/v4`,
    token,
    zoneId,
    calls,
    records,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
