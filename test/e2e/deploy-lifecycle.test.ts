// What happens to a deployed app afterwards, through the real CLI, sshd and local host, seen from
// the HTTPS edge: releases whose instances fail to start or to stay healthy are refused while the
// old release keeps serving every request; `tako releases rollback` brings an older release back;
// `tako scale 0` lets the app idle out, and the next request starts it again (cold start).
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { waitFor } from "@tako/testkit";
import { type DeployEnv, startDeployEnv } from "../helpers/deploy-env.js";
import { curlEdge, startLoad } from "../helpers/edge-client.js";

const HOST = "ts-fetch.tako.test";

let env: DeployEnv;
let app: string;
let index: string;
let originalIndex: string;
let cacert: string;
const versions: string[] = [];

before(async () => {
  env = await startDeployEnv("lifecycle");
  app = await env.fixtureApp("ts-fetch");
  index = join(app, "src/index.ts");
  originalIndex = await readFile(index, "utf8");
  cacert = join(env.host.paths.certsDir, HOST, "fullchain.pem");
  versions.push(await deployOk());
});
after(async () => {
  await env?.stop();
});

async function deploy() {
  const r = await env.user.tako(["deploy", "--ci", "--json"], { cwd: app, timeoutMs: 300_000 });
  return { code: r.code, stderr: r.stderr, out: JSON.parse(r.stdout) };
}

async function deployOk(): Promise<string> {
  const r = await deploy();
  assert.equal(r.code, 0, r.stderr);
  return r.out.version;
}

/** The build the edge serves for `/` right now. */
async function served(): Promise<string> {
  const reply = await curlEdge(env.host.httpsPort, HOST, "/", { cacert });
  assert.equal(reply.status, 200, reply.body);
  return JSON.parse(reply.body).build;
}

async function status() {
  const r = await env.user.tako(["status", "--json"], { cwd: app });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).servers[0].apps[0] as {
    state: string;
    version: string;
    desiredInstances?: number;
    instances?: { pid: number; version: string; state: string }[];
  };
}

// Two ways a release fails its health check: the process dies while starting (its ready()
// throws), or it becomes healthy and then stops answering probes within the stability window.
const BROKEN = [
  {
    what: "exits while starting",
    index: () =>
      originalIndex.replace(
        "readyAt = Date.now();",
        'console.error("connecting to db.internal:5432…"); throw new Error("database unreachable");',
      ),
    message: /failed at step "rollout"[\s\S]*database unreachable/,
  },
  {
    what: "turns unhealthy after its first probe",
    // Dies 1 s after it listens: the supervisor probes it the moment it reports its port, so it
    // has passed a probe by then, and the 2 s stability window has not ended.
    index: () =>
      `${originalIndex}
const listening = setInterval(() => {
  if (tako.port === 0) return;
  clearInterval(listening);
  setTimeout(() => { console.error("lost the database"); process.exit(1); }, 1000);
}, 10);
`,
    message:
      /failed at step "rollout": rollout of release \w+ failed: new instance \w{8} of \w+ exited after it became healthy/,
  },
];

for (const broken of BROKEN) {
  test(`a release that ${broken.what} fails the deploy at the rollout; the old one serves every request`, async () => {
    const live = versions.at(-1);
    const load = startLoad({
      port: env.host.httpsPort,
      host: HOST,
      ca: await readFile(cacert, "utf8"),
      clients: 2,
    });
    let failed: Awaited<ReturnType<typeof deploy>>;
    let stats: Awaited<ReturnType<typeof load.stop>>;
    try {
      await load.more(3);
      await writeFile(index, broken.index());
      failed = await deploy();
      await load.more(3);
    } finally {
      stats = await load.stop();
      await writeFile(index, originalIndex);
    }
    assert.equal(failed.code, 1, failed.stderr);
    assert.equal(failed.out.ok, false);
    const error = failed.out.servers[0].error;
    assert.equal(error.reason, "ROLLOUT_FAILED", JSON.stringify(error));
    assert.match(error.message, broken.message);
    assert.match(failed.stderr, /Error: local: deploy of ts-fetch\/production failed at step "rollout"/);

    assert.deepEqual(stats.errors, []);
    assert.deepEqual(Object.keys(stats.statuses), ["200"], JSON.stringify(stats.statuses));
    assert.deepEqual(stats.builds, [live], "only the old release answered");
    assert.equal(await served(), live);
    const now = await status();
    assert.equal(now.version, live);
    assert.ok(
      (now.instances ?? []).every((i) => i.version === live),
      `nothing of the failed release runs: ${JSON.stringify(now.instances)}`,
    );
    assert.equal(
      await readFile(join(env.host.paths.appDir("ts-fetch", "production"), "current/src/index.ts"), "utf8"),
      originalIndex,
      "current still points at the old release",
    );
  });
}

test("tako releases rollback <release> serves the older release again", async () => {
  await writeFile(index, originalIndex.replace("{ readyAt }", "{ readyAt, second: true }"));
  versions.push(await deployOk());
  const [first, second] = versions;
  assert.equal(await served(), second);

  const list = await env.user.tako(["releases", "list", "--json"], { cwd: app });
  assert.equal(list.code, 0, list.stderr);
  const releases = JSON.parse(list.stdout).servers[0].releases as { version: string; current?: boolean }[];
  assert.deepEqual(
    releases.filter((r) => r.current).map((r) => r.version),
    [second],
  );
  assert.ok(releases.some((r) => r.version === first));

  const r = await env.user.tako(["releases", "rollback", String(first), "--ci"], { cwd: app });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`✓ local: ${first} is live \\(was ${second}\\)`));
  assert.equal(await served(), first);
  assert.equal((await status()).version, first);
  const again = JSON.parse((await env.user.tako(["releases", "list", "--json"], { cwd: app })).stdout);
  assert.deepEqual(
    again.servers[0].releases
      .filter((x: { current?: boolean }) => x.current)
      .map((x: { version: string }) => x.version),
    [first],
  );
});

test("tako scale 0: the app idles out, then a request starts it again (cold start) and gets 200", async () => {
  const live = versions[0];
  const before = (await status()).instances ?? [];
  assert.equal(before.length, 1);
  const scaled = await env.user.tako(["scale", "0", "--ci"], { cwd: app });
  assert.equal(scaled.code, 0, scaled.stderr);
  assert.match(scaled.stdout, /✓ local: ts-fetch\/production scaled to 0/);

  // idle_timeout = 2 in the fixture's tako.toml: the instance stops once it has been idle that long.
  const idle = await waitFor(
    async () => {
      const s = await status();
      return s.state === "APP_STATE_IDLE" && (s.instances ?? []).length === 0 ? s : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500, what: "the app to idle out" },
  );
  assert.equal(idle.version, live);
  const oldPid = before[0]?.pid ?? 0;
  await waitFor(() => !existsSync(`/proc/${oldPid}`), { timeoutMs: 10_000, what: "the old process to exit" });

  // The first request wakes it: the edge queues it until an instance is healthy.
  assert.equal(await served(), live);
  const woken = await status();
  assert.equal(woken.instances?.length, 1, JSON.stringify(woken));
  assert.notEqual(woken.instances?.[0]?.pid, oldPid, "a new process");
  assert.equal(woken.desiredInstances ?? 0, 0, "still scaled to 0: it will idle out again");
});
