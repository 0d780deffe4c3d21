// The HTTP/1.1 front (src/server/http1-front.ts) through a real edge daemon and raw TLS sockets:
// response framing as the instance answered, keep-alive, and the hand-off of a connection to
// Node's HTTP/1.1 server — mid-connection, with the request's bytes — for what the front does
// not serve. The front forwards header names as the client wrote them, Node's server lowercases
// them: that tells which of the two answered a request.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, test } from "node:test";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { sleep } from "@tako/testkit";
import { WebSocketServer } from "ws";
import { type EdgeHarness, startEdge } from "./helpers/edge-harness.js";

const HOST = "front.test";
const BIG_BYTES = 6 * 1024 * 1024;
const big = Buffer.alloc(BIG_BYTES, "0123456789abcdef");

let edge: EdgeHarness;
let instance: http.Server;
let instanceConnections = 0;

before(async () => {
  edge = await startEdge({ defaultCertNames: [HOST], flags: ["--processes", "1"] });
  instance = http.createServer((req, res) => {
    let bodyBytes = 0;
    req.on("data", (c: Buffer) => {
      bodyBytes += c.length;
    });
    req.on("end", () => {
      if (req.url === "/chunked") {
        res.write("a");
        res.write("b");
        res.end("c");
      } else if (req.url === "/empty") {
        res.statusCode = 204;
        res.end();
      } else if (req.url === "/big") {
        res.setHeader("content-length", BIG_BYTES);
        res.end(big);
      } else {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, bodyBytes }));
      }
    });
  });
  instance.on("connection", () => instanceConnections++);
  new WebSocketServer({ server: instance });
  await new Promise<void>((resolve) => instance.listen(0, "127.0.0.1", resolve));
  const port = (instance.address() as AddressInfo).port;
  edge.supervisor.set({ app: "front", env: "production", endpoints: [{ instanceId: "front-1", port }] });
  await edge.edge.setRoutes({ app: "front", env: "production", routes: [HOST] });
});

after(async () => {
  await edge?.stop();
  instance?.closeAllConnections();
  instance?.close();
});

interface Answer {
  readonly status: number;
  /** Lowercased names; repeated ones joined by ", ". */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** A raw HTTP/1.1 client on TLS (ALPN http/1.1): writes bytes as given, reads answers in order. */
class RawClient {
  readonly socket: TLSSocket;
  #buffer = Buffer.alloc(0);
  #wake: (() => void) | null = null;
  closed = false;

  private constructor(socket: TLSSocket) {
    this.socket = socket;
    socket.on("data", (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake?.();
    });
    socket.on("close", () => {
      this.closed = true;
      this.#wake?.();
    });
    socket.on("error", () => undefined);
  }

  static open(): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect(
        {
          host: "127.0.0.1",
          port: edge.httpsPort,
          servername: HOST,
          ca: edge.ca.certPem,
          ALPNProtocols: ["http/1.1"],
        },
        () => resolve(new RawClient(socket)),
      );
      socket.once("error", reject);
    });
  }

  send(bytes: string): void {
    this.socket.write(bytes, "latin1");
  }

  /** The next answer; `head`: the request was HEAD (no body whatever the headers say). */
  async answer(head = false): Promise<Answer> {
    const end = await this.#until(() => this.#buffer.indexOf("\r\n\r\n"));
    const lines = this.#take(end + 4)
      .toString("latin1")
      .split("\r\n")
      .filter((l) => l !== "");
    const status = Number((lines.shift() as string).split(" ")[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    if (head || status === 204 || status === 304) return { status, headers, body: Buffer.alloc(0) };
    if (headers["content-length"] !== undefined) {
      const length = Number(headers["content-length"]);
      await this.#until(() => (this.#buffer.length >= length ? length : -1));
      return { status, headers, body: this.#take(length) };
    }
    assert.equal(headers["transfer-encoding"], "chunked", "an answer without length is chunked");
    const parts: Buffer[] = [];
    for (;;) {
      const lineEnd = await this.#until(() => this.#buffer.indexOf("\r\n"));
      const size = Number.parseInt(this.#take(lineEnd + 2).toString("latin1"), 16);
      await this.#until(() => (this.#buffer.length >= size + 2 ? size : -1));
      const data = this.#take(size + 2);
      if (size === 0) return { status, headers, body: Buffer.concat(parts) };
      parts.push(data.subarray(0, size));
    }
  }

  /** Resolves when the server closed the connection. */
  async closedByServer(): Promise<void> {
    await this.#until(() => (this.closed ? 0 : -1));
  }

  #take(n: number): Buffer {
    const out = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(n);
    return out;
  }

  async #until(found: () => number): Promise<number> {
    for (;;) {
      const at = found();
      if (at !== -1) return at;
      if (this.closed) throw new Error(`connection closed; unread: ${this.#buffer.toString("latin1")}`);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no answer within 10 s")), 10_000);
        this.#wake = () => {
          clearTimeout(timer);
          this.#wake = null;
          resolve();
        };
      });
    }
  }
}

const get = (path: string, extra = "") => `GET ${path} HTTP/1.1\r\nHost: ${HOST}\r\n${extra}\r\n`;

function seen(answer: Answer): { method: string; url: string; rawHeaders: string[]; bodyBytes: number } {
  return JSON.parse(answer.body.toString());
}

test("requests on one kept-alive connection are answered by the front, with the client's header names as written", async () => {
  const client = await RawClient.open();
  const connectionsBefore = instanceConnections;
  for (let i = 0; i < 3; i++) {
    client.send(
      get(`/n${i}`, "X-Mixed-Case: yes\r\nX-Tako-Internal-Token: forged\r\nX-Forwarded-For: 6.6.6.6\r\n"),
    );
    const answer = await client.answer();
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.connection, "keep-alive");
    assert.match(answer.headers["keep-alive"] ?? "", /^timeout=\d+$/);
    assert.ok(answer.headers.date, "Date is set");
    assert.match(answer.headers["x-request-id"] ?? "", /^[A-Za-z0-9_-]{16}$/);
    const echo = seen(answer);
    assert.equal(echo.url, `/n${i}`);
    const raw = echo.rawHeaders;
    assert.ok(raw.includes("X-Mixed-Case"), `the name as the client wrote it: ${raw.join(" ")}`);
    const lower = raw.map((h, j) => (j % 2 === 0 ? h.toLowerCase() : h));
    assert.ok(!lower.includes("x-tako-internal-token"), "the internal token never reaches the app");
    assert.equal(
      lower[lower.indexOf("x-forwarded-for") + 1],
      "127.0.0.1",
      "the client's X-Forwarded-For is replaced",
    );
    assert.equal(lower[lower.indexOf("x-forwarded-proto") + 1], "https");
    assert.equal(lower[lower.indexOf("x-request-id") + 1], answer.headers["x-request-id"]);
  }
  assert.ok(instanceConnections - connectionsBefore <= 1, "one upstream connection, kept alive");
  client.socket.destroy();
});

test("answers keep the instance's framing: chunked stays chunked, HEAD and 204 carry no body", async () => {
  const client = await RawClient.open();
  client.send(get("/chunked"));
  const chunked = await client.answer();
  assert.equal(chunked.headers["transfer-encoding"], "chunked");
  assert.equal(chunked.body.toString(), "abc");
  client.send(`HEAD /echo HTTP/1.1\r\nHost: ${HOST}\r\n\r\n`);
  const head = await client.answer(true);
  assert.equal(head.status, 200);
  assert.equal(head.headers["transfer-encoding"], undefined, "no chunked framing on an answer to HEAD");
  client.send(get("/empty"));
  const empty = await client.answer();
  assert.equal(empty.status, 204);
  // Had any of those carried stray bytes, this answer would not parse.
  client.send(get("/after"));
  assert.equal(seen(await client.answer()).url, "/after");
  client.socket.destroy();
});

test("a large answer reaches a slow reader whole", async () => {
  const client = await RawClient.open();
  client.socket.pause();
  client.send(get("/big"));
  await sleep(300); // the edge meets backpressure and must stop reading the instance meanwhile
  client.socket.resume();
  const answer = await client.answer();
  assert.equal(answer.body.length, BIG_BYTES);
  assert.equal(
    createHash("sha256").update(answer.body).digest("hex"),
    createHash("sha256").update(big).digest("hex"),
  );
  client.socket.destroy();
});

test("a head that arrives in pieces is answered", async () => {
  const client = await RawClient.open();
  const request = get("/pieces", "X-Piece: 1\r\n");
  for (const part of [request.slice(0, 7), request.slice(7, 30), request.slice(30)]) {
    client.send(part);
    await sleep(50);
  }
  const answer = await client.answer();
  assert.equal(seen(answer).url, "/pieces");
  assert.ok(seen(answer).rawHeaders.includes("X-Piece"), "served by the front");
  client.socket.destroy();
});

test("a request with a body is handed to Node's server with its bytes, on the same connection", async () => {
  const client = await RawClient.open();
  client.send(get("/first", "X-Case: A\r\n"));
  assert.ok(seen(await client.answer()).rawHeaders.includes("X-Case"), "the first request is the front's");
  client.send(`POST /upload HTTP/1.1\r\nHost: ${HOST}\r\nX-Case: B\r\nContent-Length: 11\r\n\r\nhello`);
  await sleep(50); // the body's rest comes in a later packet
  client.send(" world");
  const posted = seen(await client.answer());
  assert.deepEqual([posted.method, posted.url, posted.bodyBytes], ["POST", "/upload", 11]);
  assert.ok(posted.rawHeaders.includes("x-case"), "answered by Node's server (names lowercased)");
  client.send(get("/third", "X-Case: C\r\n"));
  const third = seen(await client.answer());
  assert.equal(third.url, "/third");
  assert.ok(third.rawHeaders.includes("x-case"), "the connection stays with Node's server");
  client.socket.destroy();
});

test("pipelined requests are answered in order", async () => {
  const client = await RawClient.open();
  client.send(get("/p1") + get("/p2") + get("/p3"));
  for (const url of ["/p1", "/p2", "/p3"]) assert.equal(seen(await client.answer()).url, url);
  client.socket.destroy();
});

test("HTTP/1.0 and upgrade requests are left to Node's server", async () => {
  const old = await RawClient.open();
  old.send(`GET /old HTTP/1.0\r\nHost: ${HOST}\r\n\r\n`);
  const answer = await old.answer();
  assert.equal(seen(answer).url, "/old");
  await old.closedByServer(); // HTTP/1.0 without keep-alive: Node's server closes
  const ws = await RawClient.open();
  ws.send(
    get(
      "/ws",
      "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
    ),
  );
  const end = await new Promise<string>((resolve) => {
    let got = "";
    ws.socket.on("data", (c: Buffer) => {
      got += c.toString("latin1");
      if (got.includes("\r\n\r\n")) resolve(got);
    });
  });
  assert.match(end, /^HTTP\/1\.1 101 /, "the upgrade went through");
  ws.socket.destroy();
});

test("Connection: close is honoured: the answer says so and the connection ends", async () => {
  const client = await RawClient.open();
  client.send(get("/bye", "Connection: close\r\nX-Case: A\r\n"));
  const answer = await client.answer();
  assert.equal(answer.headers.connection, "close");
  assert.ok(seen(answer).rawHeaders.includes("X-Case"), "served by the front");
  await client.closedByServer();
});

test("a malformed request gets no answer from an instance and its connection is closed", async () => {
  const client = await RawClient.open();
  client.send(get("/ok"));
  await client.answer();
  const before = instanceConnections;
  client.send("GET /bad HTTP/1.1\r\nHost: front.test\r\nBad Header\r\n\r\n");
  await client.closedByServer();
  assert.equal(instanceConnections, before);
});
