// The upstream keep-alive agent against a real HTTP server on loopback: connections are reused,
// never shared by two requests at once, dropped when the instance closes them, and Node's own
// paths (queueing past maxSockets, destroy) still work.
import assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { after, before, test } from "node:test";
import { UpstreamAgent } from "../src/upstream/upstream-agent.js";

let server: http.Server;
let port: number;
const connections = new Set<Socket>();
let opened = 0;
/** Requests in progress on each connection right now (must never exceed 1). */
const busy = new Map<Socket, number>();
let overlapped = false;

before(async () => {
  server = http.createServer((req, res) => {
    const n = (busy.get(req.socket) ?? 0) + 1;
    busy.set(req.socket, n);
    if (n > 1) overlapped = true;
    const delayMs = Number(new URL(req.url ?? "/", "http://x").searchParams.get("delay") ?? 0);
    setTimeout(() => {
      busy.set(req.socket, (busy.get(req.socket) ?? 1) - 1);
      res.end(`ok ${req.method} ${req.url}`);
    }, delayMs);
  });
  server.on("connection", (socket: Socket) => {
    opened++;
    connections.add(socket);
    socket.on("close", () => connections.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function get(agent: http.Agent, path: string): Promise<{ status: number; body: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, reused: req.reusedSocket }));
    });
    req.on("error", reject);
    req.end();
  });
}

const pools = (agent: http.Agent) => ({
  busy: Object.values(agent.sockets).reduce((n, l) => n + (l?.length ?? 0), 0),
  free: Object.values(agent.freeSockets).reduce((n, l) => n + (l?.length ?? 0), 0),
});

test("sequential requests share one keep-alive connection", async () => {
  const agent = new UpstreamAgent("127.0.0.1", port);
  const before = opened;
  for (let i = 0; i < 20; i++) {
    const r = await get(agent, `/seq/${i}`);
    assert.equal(r.body, `ok GET /seq/${i}`);
    assert.equal(r.reused, i > 0);
  }
  assert.equal(opened - before, 1);
  await new Promise((r) => setImmediate(r)); // the last connection goes back to the free list
  assert.deepEqual(pools(agent), { busy: 0, free: 1 });
  agent.destroy();
});

test("concurrent requests get a connection each, and the next wave reuses them", async () => {
  const agent = new UpstreamAgent("127.0.0.1", port);
  const before = opened;
  overlapped = false;
  const wave = (tag: string) =>
    Promise.all(Array.from({ length: 10 }, (_, i) => get(agent, `/${tag}/${i}?delay=20`)));
  const first = await wave("a");
  assert.deepEqual(
    first.map((r) => r.body),
    first.map((_, i) => `ok GET /a/${i}?delay=20`),
  );
  assert.equal(opened - before, 10);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(pools(agent), { busy: 0, free: 10 });
  const second = await wave("b");
  assert.ok(second.every((r) => r.status === 200 && r.reused));
  assert.equal(opened - before, 10, "no new connection for the second wave");
  assert.equal(overlapped, false, "a connection carried two requests at once");
  agent.destroy();
});

test("a connection the instance closed while idle is not reused", async () => {
  const agent = new UpstreamAgent("127.0.0.1", port);
  await get(agent, "/first");
  const before = opened;
  // The instance drops its idle connections (as a restarting app does).
  for (const socket of connections) socket.destroy();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(pools(agent), { busy: 0, free: 0 });
  const r = await get(agent, "/after");
  assert.equal(r.body, "ok GET /after");
  assert.equal(r.reused, false);
  assert.equal(opened - before, 1);
  agent.destroy();
});

test("past maxSockets requests wait for a connection (Node's queue) and all succeed", async () => {
  const agent = new UpstreamAgent("127.0.0.1", port, { maxSockets: 2 });
  const before = opened;
  const results = await Promise.all(Array.from({ length: 8 }, (_, i) => get(agent, `/q/${i}?delay=10`)));
  assert.ok(results.every((r, i) => r.body === `ok GET /q/${i}?delay=10`));
  assert.equal(opened - before, 2);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(pools(agent), { busy: 0, free: 2 });
  agent.destroy();
});

test("destroy closes the idle connections", async () => {
  const agent = new UpstreamAgent("127.0.0.1", port);
  await Promise.all([get(agent, "/d1?delay=10"), get(agent, "/d2?delay=10")]);
  await new Promise((r) => setImmediate(r));
  const idle = Object.values(agent.freeSockets).flatMap((l) => l ?? []);
  assert.equal(idle.length, 2);
  agent.destroy();
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(idle.every((s) => s.destroyed));
});
