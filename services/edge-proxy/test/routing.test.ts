// Routing through real sockets: an edge-proxy daemon in front of real upstream HTTP servers, with
// routes pushed over edge.sock as agentd does, requests made like `curl --resolve`.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { TakoError } from "@tako/errors";
import { waitFor } from "@tako/testkit";
import { curl, h2Request, httpRequest, httpsRequest } from "./helpers/clients.js";
import { type EdgeHarness, startEdge } from "./helpers/edge-harness.js";
import { type Echo, startUpstreamApp, type UpstreamApp } from "./helpers/upstream-app.js";

let edge: EdgeHarness;
let web: UpstreamApp;
let web2: UpstreamApp;
let api: UpstreamApp;
let blog: UpstreamApp;
let wild: UpstreamApp;
let deepWild: UpstreamApp;

before(async () => {
  edge = await startEdge({
    defaultCertNames: [
      "example.test",
      "*.example.test",
      "*.b.example.test",
      "*.y.example.test",
      "other.test",
      "*.other.test",
      "new.test",
    ],
  });
  web = await startUpstreamApp("web-1");
  web2 = await startUpstreamApp("web-2");
  api = await startUpstreamApp("api-1");
  blog = await startUpstreamApp("blog-1");
  wild = await startUpstreamApp("wild-1");
  deepWild = await startUpstreamApp("deep-1");
  edge.supervisor.set({
    app: "web",
    env: "production",
    endpoints: [web, web2].map((a) => ({ instanceId: a.instanceId, port: a.port })),
  });
  edge.supervisor.set({
    app: "api",
    env: "production",
    endpoints: [{ instanceId: api.instanceId, port: api.port }],
  });
  edge.supervisor.set({
    app: "blog",
    env: "staging",
    endpoints: [{ instanceId: blog.instanceId, port: blog.port }],
  });
  edge.supervisor.set({
    app: "wild",
    env: "production",
    endpoints: [{ instanceId: wild.instanceId, port: wild.port }],
  });
  edge.supervisor.set({
    app: "deep",
    env: "production",
    endpoints: [{ instanceId: deepWild.instanceId, port: deepWild.port }],
  });
  await edge.edge.setRoutes({ app: "web", env: "production", routes: ["example.test"] });
  await edge.edge.setRoutes({ app: "api", env: "production", routes: ["example.test/api/*"] });
  await edge.edge.setRoutes({ app: "blog", env: "staging", routes: ["example.test/blog*"] });
  await edge.edge.setRoutes({ app: "wild", env: "production", routes: ["*.example.test"] });
  await edge.edge.setRoutes({ app: "deep", env: "production", routes: ["*.b.example.test"] });
});

after(async () => {
  await edge?.stop();
  await Promise.all([web, web2, api, blog, wild, deepWild].map((a) => a?.close()));
});

const get = async (host: string, path = "/", headers = {}) => {
  const reply = await httpsRequest(edge.httpsPort, { host, path, headers, ca: edge.ca.certPem });
  return { ...reply, echo: reply.status === 200 ? (JSON.parse(reply.body) as Echo) : undefined };
};

describe("routing", () => {
  test("an exact host reaches its app, round robin over its healthy instances", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const r = await get("example.test", "/hello?x=1");
      assert.equal(r.status, 200);
      assert.equal(r.echo?.url, "/hello?x=1");
      seen.add(r.echo?.instance ?? "");
    }
    assert.deepEqual([...seen].sort(), ["web-1", "web-2"]);
  });

  test("the most specific route wins: segment prefix, raw prefix, then the bare host", async () => {
    assert.equal((await get("example.test", "/api/users")).echo?.instance, "api-1");
    assert.equal((await get("example.test", "/api")).echo?.instance, "api-1");
    assert.match((await get("example.test", "/apix")).echo?.instance ?? "", /^web-/);
    assert.equal((await get("example.test", "/blog")).echo?.instance, "blog-1");
    assert.equal((await get("example.test", "/blogging/post")).echo?.instance, "blog-1");
    assert.match((await get("EXAMPLE.test", "/")).echo?.instance ?? "", /^web-/);
  });

  test("a wildcard host matches subdomains but never the apex; a longer suffix wins", async () => {
    assert.equal((await get("shop.example.test")).echo?.instance, "wild-1");
    assert.equal((await get("x.y.example.test")).echo?.instance, "wild-1");
    assert.equal((await get("a.b.example.test")).echo?.instance, "deep-1");
    assert.equal((await get("b.example.test")).echo?.instance, "wild-1");
    // The apex of *.example.test is example.test, served by its own exact route.
    assert.match((await get("example.test")).echo?.instance ?? "", /^web-/);
  });

  test("an unknown host gets 404", async () => {
    const r = await get("other.test");
    assert.equal(r.status, 404);
    assert.equal(r.body, "Not Found");
    assert.match(String(r.headers["content-type"]), /^text\/plain/);
  });

  test("forwarded headers and a request id are set; a client-sent internal token is stripped", async () => {
    const r = await get("example.test", "/h", {
      "x-forwarded-for": "6.6.6.6",
      forwarded: "for=6.6.6.6",
      "x-tako-internal-token": "stolen",
    });
    const h = r.echo?.headers ?? {};
    assert.equal(h["x-forwarded-for"], "127.0.0.1");
    assert.equal(h["x-forwarded-proto"], "https");
    assert.equal(h["x-forwarded-host"], "example.test");
    assert.equal(h["x-tako-internal-token"], undefined);
    assert.equal(h.forwarded, undefined);
    // The client asked to close (Node's agent: false), whatever the app's connection to the edge says.
    assert.equal(h.connection, "keep-alive", "the edge keeps its own upstream connection alive");
    assert.equal(r.headers.connection, "close");
    assert.match(String(h["x-request-id"]), /^[A-Za-z0-9_-]{16}$/);
    assert.equal(r.headers["x-request-id"], h["x-request-id"]);
    const kept = await get("example.test", "/h", { "x-request-id": "trace-123" });
    assert.equal(kept.echo?.headers["x-request-id"], "trace-123");
    assert.equal(kept.headers["x-request-id"], "trace-123");
  });

  test("HTTP/2 is negotiated by ALPN and proxied", async () => {
    const r = await h2Request(edge.httpsPort, "example.test", "/via-h2", edge.ca.certPem);
    assert.equal(r.alpn, "h2");
    assert.equal(r.status, 200);
    const echo = JSON.parse(r.body) as Echo;
    assert.equal(echo.url, "/via-h2");
    assert.equal(echo.headers.host, "example.test");
  });

  test("upstream connections are kept alive", async () => {
    const before = api.connections;
    for (let i = 0; i < 20; i++) assert.equal((await get("example.test", "/api/k")).status, 200);
    assert.ok(
      api.connections - before <= 2,
      `${api.connections - before} new upstream connections for 20 requests`,
    );
  });

  test("TLS sessions resume on new connections, whichever edge process they reach", async () => {
    const { connect } = await import("node:tls");
    const handshake = (session?: Buffer) =>
      new Promise<{ reused: boolean; session: Buffer | undefined }>((resolve, reject) => {
        let ticket: Buffer | undefined;
        const socket = connect({
          host: "127.0.0.1",
          port: edge.httpsPort,
          servername: "example.test",
          ca: edge.ca.certPem,
          ALPNProtocols: ["http/1.1"],
          ...(session ? { session } : {}),
        });
        socket.on("session", (s) => {
          ticket = s;
        });
        socket.on("error", reject);
        let reused = false;
        socket.on("secureConnect", () => {
          reused = socket.isSessionReused();
          // TLS 1.3 tickets arrive after the handshake; ask for a response so they get read.
          socket.write("GET / HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n");
        });
        socket.on("data", () => undefined);
        socket.on("close", () => resolve({ reused, session: ticket }));
      });
    const first = await handshake();
    assert.ok(first.session, "a session ticket was issued");
    for (let i = 0; i < 6; i++) {
      const again = await handshake(first.session);
      assert.equal(again.reused, true, `connection ${i + 2} resumed the session`);
    }
  });

  test("curl --resolve over HTTPS verifies the certificate chosen by SNI", async () => {
    const r = await curl([
      "--resolve",
      `shop.example.test:${edge.httpsPort}:127.0.0.1`,
      "--cacert",
      await writeCa(),
      `https://shop.example.test:${edge.httpsPort}/curl`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as Echo).instance, "wild-1");
  });
});

async function writeCa(): Promise<string> {
  const { writeFile } = await import("node:fs/promises");
  const path = `${edge.root}/ca.pem`;
  await writeFile(path, edge.ca.certPem);
  return path;
}

describe("HTTP listener", () => {
  test("plain HTTP is redirected to HTTPS with 307, keeping path and query", async () => {
    const r = await httpRequest(edge.httpPort, { host: "example.test", path: "/a/b?c=d" });
    assert.equal(r.status, 307);
    assert.equal(r.headers.location, `https://example.test:${edge.httpsPort}/a/b?c=d`);
    assert.equal(r.headers["cache-control"], "no-store");
    assert.equal(r.body, "Redirecting to HTTPS");
  });

  test("ACME HTTP-01 challenges are answered from certd's pending set, unknown tokens get 404", async () => {
    edge.certd.addChallenge("tok-1", "tok-1.thumbprint");
    await waitFor(
      async () => {
        const r = await httpRequest(edge.httpPort, {
          host: "new.test",
          path: "/.well-known/acme-challenge/tok-1",
        });
        return r.status === 200 && r.body === "tok-1.thumbprint";
      },
      { what: "the challenge to be served" },
    );
    const unknown = await httpRequest(edge.httpPort, {
      host: "new.test",
      path: "/.well-known/acme-challenge/nope",
    });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body, "Token not found");
    edge.certd.removeChallenge("tok-1");
    await waitFor(
      async () => {
        const r = await httpRequest(edge.httpPort, {
          host: "new.test",
          path: "/.well-known/acme-challenge/tok-1",
        });
        return r.status === 404;
      },
      { what: "the challenge to be withdrawn" },
    );
  });
});

describe("EdgeService", () => {
  test("a pattern served by another deployment is refused with ROUTE_CONFLICT and changes nothing", async () => {
    const before = await edge.edge.listRoutes({});
    await assert.rejects(
      edge.edge.setRoutes({ app: "blog", env: "production", routes: ["new.test", "example.test/api/*"] }),
      (err: unknown) => TakoError.is(err, "ROUTE_CONFLICT") && /api\/production/.test(err.message),
    );
    assert.deepEqual(await edge.edge.listRoutes({}), before);
    assert.equal((await get("new.test")).status, 404);
  });

  test("invalid patterns and names are refused with a clear reason", async () => {
    for (const route of [
      "/only-a-path",
      "*.com",
      "https://example.test",
      "a.*.example.test",
      "example.test:8443",
    ]) {
      await assert.rejects(
        edge.edge.setRoutes({ app: "blog", env: "production", routes: [route] }),
        (err: unknown) => TakoError.is(err, "ROUTE_INVALID"),
        route,
      );
    }
    await assert.rejects(
      edge.edge.setRoutes({ app: "Bad_Name", env: "production", routes: ["ok.test"] }),
      (err: unknown) => TakoError.is(err, "INVALID_ARGUMENT"),
    );
  });

  test("ListRoutes returns the table most specific first", async () => {
    const { routes } = await edge.edge.listRoutes({});
    assert.deepEqual(
      routes.map((r) => `${r.pattern} ${r.app}/${r.env}`),
      [
        "example.test/blog* blog/staging",
        "example.test/api/* api/production",
        "example.test web/production",
        "*.b.example.test deep/production",
        "*.example.test wild/production",
      ],
    );
  });

  test("routes survive an edge restart without being pushed again; RemoveRoutes drops them", async () => {
    await edge.edge.setRoutes({ app: "blog", env: "production", routes: ["blog.other.test"] });
    edge.supervisor.set({
      app: "blog",
      env: "production",
      endpoints: [{ instanceId: blog.instanceId, port: blog.port }],
    });
    const pidBefore = await edge.pid();
    await edge.restart();
    assert.notEqual(await edge.pid(), pidBefore);
    assert.equal((await get("blog.other.test")).echo?.instance, "blog-1");
    assert.equal((await edge.edge.removeRoutes({ app: "blog", env: "production" })).existed, true);
    assert.equal((await edge.edge.removeRoutes({ app: "blog", env: "production" })).existed, false);
    assert.equal((await get("blog.other.test")).status, 404);
  });
});
