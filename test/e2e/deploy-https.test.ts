// The whole management path for a TypeScript app: `tako deploy` through the harness sshd to a
// real local host (agentd, certd, supervisor, edge) → served over HTTPS with certd's certificate
// (real curl, --resolve), static files from public/ answered by the edge (ETag, 304), secrets set
// with `tako secrets set` visible to the app and absent from its environment; then a redeploy
// while Node clients keep requesting: zero errors, zero non-2xx, and the version served changes.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { REPO_ROOT } from "@tako/testkit";
import { type DeployEnv, startDeployEnv } from "../helpers/deploy-env.js";
import { curlEdge, startLoad } from "../helpers/edge-client.js";

const HOST = "ts-fetch.tako.test";
// Distinctive values, so finding them anywhere they must not be is meaningful.
const GREETING_NAME = "Ada-7f3c91";
const API_TOKEN = "tok-5b1e0d8a2c94e6f7a3b5";

let env: DeployEnv;
let app: string;
let cacert: string;
let firstVersion: string;

interface Reply {
  greeting: string;
  tokenDigest: string;
  env: string;
  app: string;
  build: string;
  publicFile: string;
}

before(async () => {
  env = await startDeployEnv("https");
  app = await env.fixtureApp("ts-fetch");
  for (const [name, value] of [
    ["GREETING_NAME", GREETING_NAME],
    ["API_TOKEN", API_TOKEN],
  ] as const) {
    const set = await env.user.tako(["secrets", "set", name, "--ci"], { cwd: app, input: value });
    assert.equal(set.code, 0, set.stderr);
  }
  cacert = join(env.host.paths.certsDir, HOST, "fullchain.pem");
});
after(async () => {
  await env?.stop();
});

async function deploy(): Promise<{ version: string; steps: string[]; urls: string[] }> {
  const r = await env.user.tako(["deploy", "--ci", "--json"], { cwd: app, timeoutMs: 300_000 });
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
  const out = JSON.parse(r.stdout);
  assert.equal(out.ok, true);
  const result = out.servers[0].result;
  return {
    version: out.version,
    steps: result.steps.map((s: { name: string }) => s.name),
    urls: result.urls,
  };
}

async function instancePids(): Promise<number[]> {
  const r = await env.user.tako(["status", "--json"], { cwd: app });
  assert.equal(r.code, 0, r.stderr);
  const [status] = JSON.parse(r.stdout).servers[0].apps;
  return (status.instances ?? []).map((i: { pid: number }) => i.pid);
}

test("tako deploy: the app answers over HTTPS through the edge, with certd's certificate for its name", async () => {
  const deployed = await deploy();
  firstVersion = deployed.version;
  assert.deepEqual(deployed.steps, [
    "upload",
    "extract",
    "install",
    "certificates",
    "rollout",
    "routes",
    "activate",
  ]);
  assert.deepEqual(deployed.urls, [`https://${HOST}:${env.host.httpsPort}/`]);

  // curl verifies the chain and the name against the certificate certd issued for this host.
  const reply = await curlEdge(env.host.httpsPort, HOST, "/?tone=excited", { cacert });
  assert.equal(reply.status, 200, reply.body);
  assert.match(reply.headers["x-request-id"] ?? "", /\S/, "the edge answered");
  const body = JSON.parse(reply.body) as Reply;
  assert.equal(body.build, firstVersion);
  assert.equal(body.app, "ts-fetch");
  assert.equal(body.env, "production");
  assert.equal(
    body.publicFile,
    (await readFile(join(REPO_ROOT, "test/fixtures/apps/ts-fetch/public/hello.txt"), "utf8")).trim(),
    "the compiled TypeScript still finds its files through import.meta.url",
  );

  // Another name is not this certificate's: curl refuses it.
  await assert.rejects(
    curlEdge(env.host.httpsPort, "other.tako.test", "/", { cacert }),
    /SSL|certificate|subject name/i,
  );
});

test("the app sees the secrets set with `tako secrets set`; they are nowhere in its environment or argv", async () => {
  const reply = await curlEdge(env.host.httpsPort, HOST, "/?tone=excited", { cacert });
  const body = JSON.parse(reply.body) as Reply;
  assert.equal(body.greeting, `Hello, ${GREETING_NAME}!`);
  assert.equal(body.tokenDigest, createHash("sha256").update(API_TOKEN).digest("hex"));

  const pids = await instancePids();
  assert.equal(pids.length, 1, "one instance by default");
  for (const pid of pids) {
    const environ = await readFile(`/proc/${pid}/environ`, "utf8");
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
    assert.match(environ, /(^|\0)TAKO_BUILD=/, "this is the app's environment");
    for (const secret of [GREETING_NAME, API_TOKEN]) {
      assert.ok(!environ.includes(secret), `a secret is in /proc/${pid}/environ`);
      assert.ok(!cmdline.includes(secret), `a secret is in /proc/${pid}/cmdline`);
    }
  }
});

test("static files come from public/ through the edge, with an ETag that gives 304", async () => {
  const expected = await readFile(join(app, "public/hello.txt"), "utf8");
  const file = await curlEdge(env.host.httpsPort, HOST, "/hello.txt", { cacert });
  assert.equal(file.status, 200);
  // The app would have answered this path with JSON: the bytes of the file mean the edge served it.
  assert.equal(file.body, expected);
  assert.match(file.headers["content-type"] ?? "", /^text\/plain/);
  assert.equal(file.headers["content-length"], String(Buffer.byteLength(expected)));
  const etag = file.headers.etag;
  assert.ok(etag, "an ETag");
  const again = await curlEdge(env.host.httpsPort, HOST, "/hello.txt", {
    cacert,
    headers: { "if-none-match": etag },
  });
  assert.equal(again.status, 304);
  assert.equal(again.body, "");
  const missing = await curlEdge(env.host.httpsPort, HOST, "/missing.txt", { cacert });
  assert.equal(missing.status, 200, "a missing asset falls through to the app");
  assert.equal((JSON.parse(missing.body) as Reply).build, firstVersion);
});

test("a redeploy while clients keep requesting: zero errors, zero non-2xx, and the new version takes over", async () => {
  const greeting = join(app, "src/greeting.ts");
  await writeFile(greeting, (await readFile(greeting, "utf8")).replaceAll("`Hello, ", "`Hello again, "));
  const load = startLoad({
    port: env.host.httpsPort,
    host: HOST,
    ca: await readFile(cacert, "utf8"),
    path: "/?tone=excited",
  });
  let stats: Awaited<ReturnType<typeof load.stop>>;
  let second: string;
  try {
    await load.more(5);
    second = (await deploy()).version;
    await load.more(5); // and on, for a while, against the new release alone
  } finally {
    stats = await load.stop();
  }
  assert.notEqual(second, firstVersion);
  assert.deepEqual(stats.errors, [], `${stats.errors.length} of ${stats.requests} requests failed`);
  const non2xx = Object.entries(stats.statuses).filter(([s]) => Number(s) < 200 || Number(s) >= 300);
  assert.deepEqual(non2xx, [], `statuses: ${JSON.stringify(stats.statuses)}`);
  assert.deepEqual(stats.builds, [firstVersion, second], "the old version served, then the new one");
  assert.equal(stats.lastBuild, second);
  const reply = JSON.parse((await curlEdge(env.host.httpsPort, HOST, "/?tone=excited", { cacert })).body);
  assert.equal(reply.build, second);
  assert.equal(reply.greeting, `Hello again, ${GREETING_NAME}!`);
});
