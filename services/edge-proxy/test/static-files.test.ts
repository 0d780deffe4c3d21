// Static files from the live release's public/ directory, through real sockets, and the ways a
// request might try to leave public/ (encoded dots, NUL, symlinks out).
import assert from "node:assert/strict";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { waitFor } from "@tako/testkit";
import { curl, httpsRequest } from "./helpers/clients.js";
import { type EdgeHarness, startEdge } from "./helpers/edge-harness.js";
import { type Echo, startUpstreamApp, type UpstreamApp } from "./helpers/upstream-app.js";

let edge: EdgeHarness;
let app: UpstreamApp;
let releaseDir: string;

before(async () => {
  edge = await startEdge({ defaultCertNames: ["site.test"] });
  app = await startUpstreamApp("site-1");
  releaseDir = join(edge.root, "opt/tako/apps/site/production/releases/v1");
  const pub = join(releaseDir, "public");
  await mkdir(join(pub, "assets"), { recursive: true });
  await mkdir(join(pub, "docs.v2"), { recursive: true });
  await writeFile(join(pub, "assets/main.js"), "console.log('hi');\n");
  await writeFile(join(pub, "style.css"), "body{}\n");
  await writeFile(join(pub, "logo.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
  await writeFile(join(pub, "data.unknownext"), "x");
  await writeFile(join(pub, "docs.v2/index.html"), "<h1>docs</h1>");
  await writeFile(join(releaseDir, "secret.txt"), "release secret");
  await writeFile(join(edge.root, "outside.txt"), "outside secret");
  await symlink(join(edge.root, "outside.txt"), join(pub, "escape.txt"));
  await symlink("assets/main.js", join(pub, "alias.js"));
  edge.supervisor.set({
    app: "site",
    env: "production",
    endpoints: [{ instanceId: app.instanceId, port: app.port }],
    releaseDir,
  });
  await edge.edge.setRoutes({ app: "site", env: "production", routes: ["site.test", "site.test/app/*"] });
  await waitFor(async () => (await get("/style.css")).status === 200, { what: "the public/ index" });
});

after(async () => {
  await edge?.stop();
  await app?.close();
});

const get = (path: string, headers = {}, method = "GET") =>
  httpsRequest(edge.httpsPort, { host: "site.test", path, headers, method, ca: edge.ca.certPem });

describe("static files", () => {
  test("a file of public/ is served with its type, length, ETag and cache headers", async () => {
    const r = await get("/assets/main.js");
    assert.equal(r.status, 200);
    assert.equal(r.body, "console.log('hi');\n");
    assert.equal(r.headers["content-type"], "text/javascript; charset=utf-8");
    assert.equal(r.headers["content-length"], "19");
    assert.equal(r.headers["cache-control"], "public, max-age=3600");
    assert.match(String(r.headers.etag), /^"19-\d+"$/);
    assert.equal((await get("/logo.png")).headers["content-type"], "image/png");
    assert.equal((await get("/data.unknownext")).headers["content-type"], "application/octet-stream");
    assert.equal(app.requests.length, 0, "no static request reached the app");
  });

  test("If-None-Match with the ETag (also weak, also in a list) gets 304", async () => {
    const etag = String((await get("/style.css")).headers.etag);
    for (const value of [etag, `W/${etag}`, `"nope", ${etag}`]) {
      const r = await get("/style.css", { "if-none-match": value });
      assert.equal(r.status, 304, value);
      assert.equal(r.body, "");
    }
    assert.equal((await get("/style.css", { "if-none-match": '"other"' })).status, 200);
  });

  test("HEAD gets the headers without a body (curl -I)", async () => {
    const r = await curl([
      "-I",
      "--resolve",
      `site.test:${edge.httpsPort}:127.0.0.1`,
      "-k",
      `https://site.test:${edge.httpsPort}/style.css`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/2 200/m);
    assert.match(r.stdout, /content-length: 7/i);
  });

  test("a path-prefixed route also tries the prefix-stripped path", async () => {
    const r = await get("/app/assets/main.js");
    assert.equal(r.status, 200);
    assert.equal(r.body, "console.log('hi');\n");
  });

  test("a directory serves its index.html; a symlink inside public/ is followed", async () => {
    assert.equal((await get("/docs.v2")).body, "<h1>docs</h1>");
    assert.equal((await get("/alias.js")).body, "console.log('hi');\n");
  });

  test("a missing file, a non-asset path and a POST go to the app", async () => {
    for (const [path, method] of [
      ["/missing.js", "GET"],
      ["/assets", "GET"],
      ["/style.css", "POST"],
    ] as const) {
      const r = await get(path, {}, method);
      assert.equal(r.status, 200, `${method} ${path}`);
      assert.equal((JSON.parse(r.body) as Echo).url, path);
    }
  });
});

describe("no path escapes public/", () => {
  test("encoded dot segments, encoded slashes and NUL get 400", async () => {
    for (const path of [
      "/%2e%2e/secret.txt",
      "/assets/%2E%2E/%2e%2e/secret.txt",
      "/..%2fsecret.txt",
      "/assets/..%2F..%2Fsecret.txt",
      "/style.css%00.js",
      "/%c0%ae%c0%ae/secret.txt",
    ]) {
      const r = await get(path);
      assert.equal(r.status, 400, path);
      assert.doesNotMatch(r.body, /secret/, path);
    }
  });

  test("raw dot segments sent as-is (curl --path-as-is) never reach a file outside", async () => {
    const r = await curl([
      "--path-as-is",
      "--resolve",
      `site.test:${edge.httpsPort}:127.0.0.1`,
      "-k",
      `https://site.test:${edge.httpsPort}/assets/../../secret.txt`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /release secret/);
  });

  test("a symlink that leads out of public/ is not served", async () => {
    const r = await get("/escape.txt");
    assert.doesNotMatch(r.body, /outside secret/);
    assert.equal((JSON.parse(r.body) as Echo).url, "/escape.txt", "the request went to the app instead");
  });
});
