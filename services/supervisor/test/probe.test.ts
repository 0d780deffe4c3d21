// The health probe against real HTTP servers: only a 2xx that echoes the instance's own token
// passes; wrong, missing or unrequested echoes, errors and silence all fail.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { probe } from "../src/health/probe.js";

const TOKEN = "correct-token-0123456789abcdef";

async function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ port: number; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

test("only a 2xx echoing the instance's token passes", async () => {
  const seen: { host: string | undefined; token: string | undefined }[] = [];
  const { port, server } = await serve((req, res) => {
    seen.push({ host: req.headers.host, token: req.headers["x-tako-internal-token"] as string });
    const mode = req.headers["x-tako-internal-token"] === TOKEN ? "echo" : "wrong";
    res.writeHead(200, { "x-tako-internal-token": mode === "echo" ? TOKEN : "something-else" });
    res.end(JSON.stringify({ requests_total: 3, inflight: 1, idle_ms: 0 }));
  });
  try {
    const ok = await probe(port, TOKEN, 2000);
    assert.deepEqual(ok, { ok: true, traffic: { requestsTotal: 3, inflight: 1, idleMs: 0 } });
    assert.deepEqual(seen[0], { host: "tako.internal", token: TOKEN });
    const wrong = await probe(port, "a-different-token-0000000000", 2000);
    assert.deepEqual(wrong, { ok: false, reason: "GET /status did not echo the instance token" });
  } finally {
    server.close();
  }
});

test("an app's public /status (200, no echo) and a 5xx with the echo both fail", async () => {
  const plain = await serve((_req, res) => res.end('{"status":"ok"}'));
  const broken = await serve((_req, res) => {
    res.writeHead(503, { "x-tako-internal-token": TOKEN });
    res.end();
  });
  try {
    assert.equal((await probe(plain.port, TOKEN, 2000)).ok, false);
    assert.deepEqual(await probe(broken.port, TOKEN, 2000), {
      ok: false,
      reason: "GET /status answered 503",
    });
  } finally {
    plain.server.close();
    broken.server.close();
  }
});

test("a closed port and a server that never answers fail", async () => {
  const silent = await serve(() => undefined);
  try {
    const refused = await probe(1, TOKEN, 2000);
    assert.equal(refused.ok, false);
    assert.deepEqual(await probe(silent.port, TOKEN, 300), {
      ok: false,
      reason: "GET /status took longer than 300 ms",
    });
  } finally {
    silent.server.closeAllConnections();
    silent.server.close();
  }
});
