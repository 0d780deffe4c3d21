// `tako server reload edge-proxy` under load: HTTPS keep-alive clients run through three reloads
// with zero errors and zero non-2xx. The listening sockets stay with the master; each old
// generation drains softly (Connection: close, idle connections closed) while the successor
// accepts on the same sockets.
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import * as https from "node:https";
import { after, before, test } from "node:test";
import { processesMentioning, sleep, waitFor } from "@tako/testkit";
import { getMetrics, httpsRequest } from "./helpers/clients.js";
import { type EdgeHarness, startEdge } from "./helpers/edge-harness.js";
import { startUpstreamApp, type UpstreamApp } from "./helpers/upstream-app.js";

const RELOADS = 3;
const MIN_REQUESTS = 2_000;

let edge: EdgeHarness;
let apps: UpstreamApp[] = [];

before(async () => {
  edge = await startEdge({ defaultCertNames: ["load.test"] });
  apps = [await startUpstreamApp("load-1"), await startUpstreamApp("load-2")];
  edge.supervisor.set({
    app: "load",
    env: "production",
    endpoints: apps.map((a) => ({ instanceId: a.instanceId, port: a.port })),
  });
  await edge.edge.setRoutes({ app: "load", env: "production", routes: ["load.test"] });
  await waitFor(
    async () =>
      (await httpsRequest(edge.httpsPort, { host: "load.test", ca: edge.ca.certPem })).status === 200,
  );
});

after(async () => {
  await edge?.stop();
  await Promise.all(apps.map((a) => a.close()));
});

interface LoopStats {
  ok: number;
  non2xx: string[];
  errors: string[];
}

/** A client loop over one keep-alive agent (a pool of persistent TLS connections). */
function loop(agent: https.Agent, stats: LoopStats, running: () => boolean): Promise<void> {
  const once = () =>
    new Promise<void>((resolve) => {
      const req = https.request(
        {
          host: "127.0.0.1",
          port: edge.httpsPort,
          servername: "load.test",
          path: "/work",
          headers: { host: "load.test" },
          ca: edge.ca.certPem,
          agent,
        },
        (res) => {
          res.resume();
          res.on("end", () => {
            if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) stats.ok++;
            else stats.non2xx.push(String(res.statusCode));
            resolve();
          });
          res.on("error", (err) => {
            stats.errors.push(err.message);
            resolve();
          });
        },
      );
      req.on("error", (err) => {
        stats.errors.push(`${(err as NodeJS.ErrnoException).code ?? ""} ${err.message}`);
        resolve();
      });
      req.end();
    });
  return (async () => {
    while (running()) await once();
  })();
}

test(`${RELOADS} reloads of edge-proxy under HTTPS keep-alive load: zero errors, zero non-2xx`, async () => {
  const stats: LoopStats = { ok: 0, non2xx: [], errors: [] };
  let running = true;
  const agents = [
    new https.Agent({ keepAlive: true, maxSockets: 4 }),
    new https.Agent({ keepAlive: true, maxSockets: 4 }),
  ];
  const loops = agents.flatMap((agent) => Array.from({ length: 4 }, () => loop(agent, stats, () => running)));
  const pids = [await edge.pid()];
  for (let i = 0; i < RELOADS; i++) {
    await sleep(400);
    const { oldPid, newPid } = await edge.master.reload();
    assert.equal(oldPid, pids.at(-1));
    pids.push(newPid);
  }
  while (stats.ok < MIN_REQUESTS) await sleep(50);
  await sleep(300);
  running = false;
  await Promise.all(loops);
  for (const a of agents) a.destroy();

  assert.deepEqual(stats.errors, [], `${stats.errors.length} errors of ${stats.ok} requests`);
  assert.deepEqual(stats.non2xx, [], `${stats.non2xx.length} non-2xx responses`);
  assert.ok(stats.ok >= MIN_REQUESTS, `${stats.ok} requests`);
  assert.equal(new Set(pids).size, RELOADS + 1, `PIDs behind edge.sock: ${pids.join(" → ")}`);
  assert.equal(await edge.pid(), pids.at(-1));
  // Every old generation drained and exited, its helper processes with it.
  await waitFor(() => edge.master.pids.length === 1, { what: "old generations to exit", timeoutMs: 30_000 });
  await waitFor(async () => (await helperPids()).length === 1, {
    what: "old helpers to exit",
    timeoutMs: 30_000,
  });
});

test(`HTTP/2 clients through ${RELOADS} reloads: only refused streams (never processed), and retried they all succeed`, async () => {
  let running = true;
  const stats = { ok: 0, retried: 0, failures: [] as string[] };
  // A client as browsers behave: a session that got GOAWAY takes no new streams, and a stream
  // refused by GOAWAY (REFUSED_STREAM: guaranteed unprocessed, RFC 9113 §8.7) is sent again.
  const loop = async () => {
    let session: http2.ClientHttp2Session | undefined;
    const open = () => {
      const s = http2.connect(`https://127.0.0.1:${edge.httpsPort}`, {
        ca: edge.ca.certPem,
        servername: "load.test",
      });
      s.on("error", () => undefined);
      s.on("goaway", () => {
        if (session === s) session = undefined;
      });
      return s;
    };
    const once = (s: http2.ClientHttp2Session) =>
      new Promise<"ok" | "refused" | string>((resolve) => {
        const req = s.request({ ":path": "/h2", ":authority": "load.test" });
        let status = 0;
        req.on("response", (h) => {
          status = Number(h[":status"]);
        });
        req.on("data", () => undefined);
        req.on("end", () => resolve(status === 200 ? "ok" : `status ${status}`));
        req.on("error", (err) => resolve(/REFUSED_STREAM/.test(err.message) ? "refused" : err.message));
      });
    while (running) {
      session ??= open();
      const result = await once(session).catch((err: Error) => err.message);
      if (result === "ok") stats.ok++;
      else if (result === "refused" || /GOAWAY|destroyed/.test(result)) {
        stats.retried++;
        session = undefined;
      } else stats.failures.push(result);
    }
    session?.close();
  };
  const loops = Array.from({ length: 6 }, loop);
  for (let i = 0; i < RELOADS; i++) {
    await sleep(400);
    await edge.master.reload();
  }
  await sleep(500);
  running = false;
  await Promise.all(loops);
  assert.deepEqual(
    stats.failures,
    [],
    `${stats.failures.length} failures, ${stats.ok} ok, ${stats.retried} retried`,
  );
  assert.ok(stats.ok >= 500, `${stats.ok} requests`);
  await waitFor(async () => edge.master.pids.length === 1 && (await helperPids()).length === 1, {
    what: "old generations and their helpers to exit",
    timeoutMs: 30_000,
  });
});

const helperPids = async () =>
  (await processesMentioning(edge.root))
    .filter((p) => p.argv.some((a) => a.endsWith("helper-main.js")))
    .map((p) => p.pid);

test("every edge process of a generation serves, with the routes the primary receives", async () => {
  assert.equal((await helperPids()).length, 1, "one helper next to the primary on this 2-CPU default");
  await edge.edge.setRoutes({ app: "load", env: "production", routes: ["load.test", "fresh.test"] });
  // Fresh connections are spread by the kernel over every process accepting on the socket: a
  // process without the new route would answer 404.
  const statuses = await Promise.all(
    Array.from({ length: 40 }, () =>
      httpsRequest(edge.httpsPort, { host: "fresh.test" }).then((r) => r.status),
    ),
  );
  assert.deepEqual([...new Set(statuses)], [200]);
  const metrics = await getMetrics(edge.metricsPort);
  // The scrape merges every process's counters: at least the 40 requests just made.
  const served = Number(
    /tako_edge_requests_total\{app="load",env="production",code="200"\} (\d+)/.exec(metrics)?.[1],
  );
  assert.ok(served >= 40, `${served} requests counted`);
});
