// The proxy's upstream side (UpstreamProxy#web over an UpstreamPool) between a real HTTP client
// and real instances on loopback: Node HTTP servers, and raw TCP servers where an instance has to
// misbehave in a precise way. The front is a plain Node HTTP server calling the proxy, as the
// edge's listeners do.
import assert from "node:assert/strict";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { after, test } from "node:test";
import { sleep, waitFor } from "@tako/testkit";
import { EdgeMetrics } from "../src/metrics/edge-metrics.js";
import { UpstreamProxy } from "../src/proxy/upstream-proxy.js";
import type { Upstream } from "../src/upstream/deployment.js";
import { UpstreamPool } from "../src/upstream/upstream-pool.js";
import { httpRequest } from "./helpers/clients.js";

const KEY = "app/production";
const closers: (() => void)[] = [];
after(() => {
  for (const close of closers) close();
});

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => {
    (server as http.Server).closeAllConnections?.();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

/** An instance: a Node HTTP server that counts its connections and checks none is shared. */
async function nodeInstance(handler: http.RequestListener, keepAliveTimeout = 5000) {
  const stats = { opened: 0, open: 0, overlapped: false };
  const busy = new Map<net.Socket, number>();
  const server = http.createServer((req, res) => {
    const n = (busy.get(req.socket) ?? 0) + 1;
    busy.set(req.socket, n);
    if (n > 1) stats.overlapped = true;
    res.on("close", () => busy.set(req.socket, (busy.get(req.socket) ?? 1) - 1));
    handler(req, res);
  });
  server.keepAliveTimeout = keepAliveTimeout;
  server.on("connection", (socket: net.Socket) => {
    stats.opened++;
    stats.open++;
    socket.on("close", () => stats.open--);
  });
  return { port: await listen(server), stats, server };
}

/** An instance speaking raw bytes: `onRequest` gets each request head and the connection. */
async function rawInstance(onRequest: (head: string, socket: net.Socket, index: number) => void) {
  let opened = 0;
  const server = net.createServer((socket) => {
    opened++;
    let buffered = "";
    let index = 0;
    socket.on("error", () => undefined);
    socket.on("data", (d) => {
      buffered += d.toString("latin1");
      let end = buffered.indexOf("\r\n\r\n");
      while (end !== -1) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        onRequest(head, socket, index++);
        end = buffered.indexOf("\r\n\r\n");
      }
    });
  });
  return { port: await listen(server), opened: () => opened };
}

/** The edge's side: a front server proxying every request to one instance's pool. */
async function front(instancePort: number, timeoutMs = 5000) {
  const metrics = new EdgeMetrics();
  const proxy = new UpstreamProxy({ metrics });
  const pool = new UpstreamPool("127.0.0.1", instancePort, { timeoutMs });
  const upstream: Upstream = {
    instanceId: "i1",
    host: "127.0.0.1",
    port: instancePort,
    target: { protocol: "http:", host: "127.0.0.1", port: instancePort },
    pool,
  };
  const server = http.createServer((req, res) => {
    // As the edge's handler: one close listener tells the proxy.
    res.on("close", () => proxy.clientClosed(res));
    proxy.web(req, res, upstream, KEY, { ip: "192.0.2.7", host: "app.test", requestId: "edge-id" });
  });
  const port = await listen(server);
  return { port, pool, metrics, upstreamErrors: () => metrics.snapshot().upstreamErrors[KEY] ?? 0 };
}

const request = (port: number, options: Parameters<typeof httpRequest>[1] = {}) => httpRequest(port, options);

test("sequential requests share one keep-alive connection; concurrent ones never share one", async () => {
  const instance = await nodeInstance((req, res) => {
    setTimeout(
      () => res.end(`ok ${req.method} ${req.url}`),
      Number(new URL(req.url ?? "/", "http://x").searchParams.get("delay") ?? 0),
    );
  });
  const edge = await front(instance.port);
  for (let i = 0; i < 5; i++) {
    const reply = await request(edge.port, { path: `/seq/${i}` });
    assert.equal(reply.body, `ok GET /seq/${i}`);
  }
  assert.equal(instance.stats.opened, 1);
  const wave = () =>
    Promise.all(Array.from({ length: 6 }, (_, i) => request(edge.port, { path: `/c/${i}?delay=30` })));
  const first = await wave();
  assert.deepEqual(
    first.map((r) => r.body),
    Array.from({ length: 6 }, (_, i) => `ok GET /c/${i}?delay=30`),
  );
  const openedAfterFirst = instance.stats.opened;
  assert.ok(openedAfterFirst >= 6, `six concurrent requests need six connections, saw ${openedAfterFirst}`);
  await wave();
  assert.equal(instance.stats.opened, openedAfterFirst, "the second wave reuses the idle connections");
  assert.equal(instance.stats.overlapped, false);
  assert.equal(edge.pool.idleCount, openedAfterFirst);
});

test("an idle connection the instance closed is not reused, and its announced keep-alive timeout is honoured", async () => {
  const instance = await nodeInstance((_req, res) => res.end("ok"), 2000); // Keep-Alive: timeout=2
  const edge = await front(instance.port);
  assert.equal((await request(edge.port)).status, 200);
  assert.equal((await request(edge.port)).status, 200);
  assert.equal(instance.stats.opened, 1, "reused within the announced timeout");
  await sleep(1100); // past timeout=2 minus the 1 s margin: the edge no longer trusts it
  assert.equal((await request(edge.port)).status, 200);
  assert.equal(instance.stats.opened, 2);
  instance.server.closeIdleConnections();
  await waitFor(() => edge.pool.openCount === 0 || undefined, { timeoutMs: 2000 });
  assert.equal((await request(edge.port)).body, "ok");
  assert.equal(instance.stats.opened, 3);
});

test("a reused connection reset as the request arrives: a GET is sent once more on a new one, a POST gets 502", async () => {
  // Answers the first request of each connection (keep-alive), resets it on the second.
  const instance = await rawInstance((head, socket, index) => {
    if (index > 0) {
      socket.resetAndDestroy();
      return;
    }
    const method = head.split(" ")[0];
    socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${method?.length}\r\n\r\n${method}`);
  });
  const edge = await front(instance.port);
  assert.equal((await request(edge.port)).body, "GET");
  const again = await request(edge.port);
  assert.equal(again.status, 200);
  assert.equal(again.body, "GET");
  assert.equal(instance.opened(), 2);
  assert.equal(edge.upstreamErrors(), 0);
  const post = await request(edge.port, { method: "POST", body: "x" });
  assert.equal(post.status, 502);
  assert.equal(post.body, "Bad Gateway");
  assert.equal(edge.upstreamErrors(), 1);
});

test("response framing: chunked, close-delimited, HEAD, 204 and an interim 100 all arrive intact", async () => {
  const instance = await rawInstance((head, socket) => {
    const path = head.split(" ")[1];
    if (path === "/chunked")
      socket.write(
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
      );
    else if (path === "/close") socket.end("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nuntil the end");
    else if (path === "/head") socket.write("HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n");
    else if (path === "/empty") socket.write("HTTP/1.1 204 No Content\r\n\r\n");
    else if (path === "/interim")
      socket.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\ncontent-length: 4\r\n\r\ndone");
  });
  const edge = await front(instance.port);
  assert.equal((await request(edge.port, { path: "/chunked" })).body, "hello world");
  assert.equal((await request(edge.port, { path: "/close" })).body, "until the end");
  const head = await request(edge.port, { path: "/head", method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.headers["content-length"], "1234");
  assert.equal(head.body.length, 0);
  assert.equal((await request(edge.port, { path: "/empty" })).status, 204);
  const interim = await request(edge.port, { path: "/interim" });
  assert.equal(interim.status, 201);
  assert.equal(interim.body, "done");
  // And the connection that carried HEAD, 204 and the 100 stayed in step: one more on it works.
  assert.equal((await request(edge.port, { path: "/empty" })).status, 204);
  assert.equal(edge.upstreamErrors(), 0);
});

test("hop-by-hop response headers stay at the edge; repeated headers such as Set-Cookie all pass", async () => {
  const instance = await rawInstance((_head, socket) =>
    socket.write(
      "HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Edge-Only\r\nKeep-Alive: timeout=30\r\nX-Edge-Only: secret\r\n" +
        "Set-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-App: yes\r\ncontent-length: 2\r\n\r\nok",
    ),
  );
  const edge = await front(instance.port);
  const reply = await request(edge.port);
  assert.equal(reply.body, "ok");
  assert.deepEqual(reply.headers["set-cookie"], ["a=1", "b=2"]);
  assert.equal(reply.headers["x-app"], "yes");
  assert.equal(reply.headers["x-request-id"], "edge-id", "the request id is echoed");
  assert.equal(reply.headers["x-edge-only"], undefined);
  assert.notEqual(reply.headers["keep-alive"], "timeout=30");
});

test("request headers: hop-by-hop and framing are the edge's own; bodies go by length or chunked", async () => {
  const seen: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const instance = await nodeInstance((req, res) => {
    let body = "";
    req.setEncoding("latin1");
    req.on("data", (c: string) => {
      body += c;
    });
    req.on("end", () => {
      seen.push({ headers: req.headers, body });
      res.end(`${body.length}`);
    });
  });
  const edge = await front(instance.port);
  await request(edge.port, {
    method: "POST",
    headers: {
      "content-type": "text/plain",
      "content-length": 9,
      te: "trailers",
      "x-kept": "1",
      "x-forwarded-for": "6.6.6.6",
      "x-tako-internal-token": "forged",
      forwarded: "for=6.6.6.6",
      connection: "keep-alive, X-Hop",
      "x-hop": "for the edge only",
    },
    body: "by length",
  });
  await request(edge.port, { method: "PUT", body: ["chun", "ked"] });
  await request(edge.port, { method: "POST" });
  const [byLength, chunked, empty] = seen;
  assert.equal(byLength?.body, "by length");
  assert.equal(byLength?.headers["content-length"], "9");
  assert.equal(byLength?.headers.te, undefined);
  assert.equal(byLength?.headers["x-kept"], "1");
  assert.equal(byLength?.headers.connection, "keep-alive");
  assert.equal(byLength?.headers["x-forwarded-for"], "192.0.2.7");
  assert.equal(byLength?.headers["x-forwarded-host"], "app.test");
  assert.equal(byLength?.headers["x-request-id"], "edge-id");
  assert.equal(byLength?.headers["x-tako-internal-token"], undefined);
  assert.equal(byLength?.headers.forwarded, undefined);
  assert.equal(
    byLength?.headers["x-hop"],
    undefined,
    "a header the client's Connection lists stays at the edge",
  );
  assert.equal(chunked?.body, "chunked");
  assert.equal(chunked?.headers["transfer-encoding"], "chunked");
  assert.equal(empty?.headers["content-length"], "0", "a POST without a body still says so");
  assert.equal(instance.stats.opened, 1);
});

test("a large body streams both ways through a slow reader without being buffered whole", async () => {
  const size = 24 * 1024 * 1024;
  const instance = await nodeInstance((req, res) => req.pipe(res)); // echo
  const edge = await front(instance.port);
  const payload = Buffer.alloc(size, 7);
  const reply = await new Promise<number>((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port: edge.port,
        method: "POST",
        agent: false,
        headers: { "content-length": size },
      },
      (res) => {
        let received = 0;
        res.on("data", (c: Buffer) => {
          received += c.length;
          res.pause(); // a slow client: the edge must stop reading the instance meanwhile
          setImmediate(() => res.resume());
        });
        res.on("end", () => resolve(received));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
  assert.equal(reply, size);
});

test("a malformed response, a silent instance and a response cut short: 502, 502, a cut response", async () => {
  const instance = await rawInstance((head, socket) => {
    const path = head.split(" ")[1];
    if (path === "/garbage") socket.write("HTTP/1.1 two hundred\r\n\r\n");
    else if (path === "/cut") {
      socket.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\npartial");
      setTimeout(() => socket.destroy(), 20);
    }
    // "/silent": never answers
  });
  const edge = await front(instance.port, 300);
  const garbage = await request(edge.port, { path: "/garbage" });
  assert.equal(garbage.status, 502);
  assert.equal(garbage.body, "Bad Gateway");
  const silent = await request(edge.port, { path: "/silent" });
  assert.equal(silent.status, 502);
  await assert.rejects(request(edge.port, { path: "/cut" }), /aborted|socket hang up|ECONNRESET/);
  assert.equal(edge.upstreamErrors(), 3);
});

test("a client that leaves mid-response closes the upstream connection; retire closes idle ones", async () => {
  let streaming: http.ServerResponse | undefined;
  const instance = await nodeInstance((req, res) => {
    if (req.url === "/stream") {
      streaming = res;
      res.write("first part");
    } else res.end("ok");
  });
  const edge = await front(instance.port);
  await request(edge.port, { path: "/" });
  await new Promise<void>((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port: edge.port, path: "/stream", agent: false }, (res) => {
      res.once("data", () => {
        req.destroy();
        resolve();
      });
    });
    req.on("error", () => undefined);
    setTimeout(() => reject(new Error("no first part")), 2000);
  });
  // The stream went out on the first request's idle connection (most recently used first).
  await waitFor(() => (streaming?.destroyed && instance.stats.open === 0) || undefined, { timeoutMs: 2000 });
  assert.equal(edge.pool.openCount, 0);
  await request(edge.port, { path: "/" });
  assert.equal(instance.stats.open, 1);
  edge.pool.retire();
  await waitFor(() => instance.stats.open === 0 || undefined, { timeoutMs: 2000 });
  assert.equal(edge.pool.openCount, 0);
});

test("an instance's own X-Request-ID is the only one the client sees", async () => {
  const instance = await rawInstance((_head, socket) =>
    socket.write("HTTP/1.1 200 OK\r\nX-Request-Id: from-app\r\ncontent-length: 0\r\n\r\n"),
  );
  const edge = await front(instance.port);
  const reply = await request(edge.port);
  assert.deepEqual(
    reply.rawHeaders.filter(
      (_v, i) => reply.rawHeaders[i - 1]?.toLowerCase() === "x-request-id" && i % 2 === 1,
    ),
    ["from-app"],
  );
});

test("an answer Node refuses to pass on over HTTP/2 (Content-Type twice) becomes a 502, and the edge lives on", async () => {
  const instance = await rawInstance((head, socket) => {
    const types = head.includes("/twice") ? "content-type: a/b\r\ncontent-type: c/d\r\n" : "";
    // TE means nothing in a response, and HTTP/2 forbids it: dropped, not a failure.
    socket.write(`HTTP/1.1 200 OK\r\n${types}TE: gzip\r\ncontent-length: 2\r\n\r\nok`);
  });
  const metrics = new EdgeMetrics();
  const proxy = new UpstreamProxy({ metrics });
  const pool = new UpstreamPool("127.0.0.1", instance.port, { timeoutMs: 5000 });
  const upstream: Upstream = {
    instanceId: "i1",
    host: "127.0.0.1",
    port: instance.port,
    target: { protocol: "http:", host: "127.0.0.1", port: instance.port },
    pool,
  };
  const server = http2.createServer((req, res) => {
    res.on("close", () => proxy.clientClosed(res));
    proxy.web(req, res, upstream, KEY, { ip: "127.0.0.1", host: "app.test", requestId: "h2-id" });
  });
  const port = await listen(server);
  const session = http2.connect(`http://127.0.0.1:${port}`);
  closers.push(() => session.destroy());
  const get = (path: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = session.request({ ":path": path });
      let status = 0;
      let body = "";
      req.on("response", (h) => {
        status = Number(h[":status"]);
      });
      req.setEncoding("utf8");
      req.on("data", (c: string) => {
        body += c;
      });
      req.on("end", () => resolve({ status, body }));
      req.on("error", reject);
    });
  assert.deepEqual(await get("/twice"), { status: 502, body: "Bad Gateway" });
  assert.deepEqual(await get("/fine"), { status: 200, body: "ok" });
  assert.equal(metrics.snapshot().upstreamErrors[KEY], 1);
});
