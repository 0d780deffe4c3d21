// Apps scaled to zero: the edge wakes them through the supervisor's Wake, queues requests
// (bounded) and serves them once an instance is ready; a wake that outlasts the timeout is
// answered 504 "App startup timed out" and the startup output is logged.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Code, ConnectError } from "@connectrpc/connect";
import { waitFor } from "@tako/testkit";
import { httpsRequest } from "./helpers/clients.js";
import { type EdgeHarness, startEdge } from "./helpers/edge-harness.js";
import { type Echo, startUpstreamApp, type UpstreamApp } from "./helpers/upstream-app.js";

let edge: EdgeHarness;
const apps: UpstreamApp[] = [];

before(async () => {
  edge = await startEdge({
    defaultCertNames: ["sleepy.test", "stuck.test", "crashy.test"],
    flags: ["--cold-start-timeout-ms", "1500", "--cold-start-queue-max", "3", "--processes", "1"],
  });
  for (const app of ["sleepy", "stuck", "crashy"]) {
    edge.supervisor.set({ app, env: "production", endpoints: [], desiredInstances: 0 });
    await edge.edge.setRoutes({ app, env: "production", routes: [`${app}.test`] });
  }
});

after(async () => {
  await edge?.stop();
  await Promise.all(apps.map((a) => a.close()));
});

const get = (host: string) => httpsRequest(edge.httpsPort, { host, path: "/", ca: edge.ca.certPem });

test("concurrent requests to a sleeping app share one wake and are all served", async () => {
  edge.supervisor.wake = async (app) => {
    await new Promise((r) => setTimeout(r, 400)); // a real start takes a while
    const instance = await startUpstreamApp(`${app}-woken`);
    apps.push(instance);
    edge.supervisor.set({
      app,
      env: "production",
      endpoints: [{ instanceId: instance.instanceId, port: instance.port }],
      desiredInstances: 0,
    });
    return { instanceId: instance.instanceId, port: instance.port };
  };
  const calls = edge.supervisor.wakeCalls;
  const replies = await Promise.all([get("sleepy.test"), get("sleepy.test"), get("sleepy.test")]);
  for (const r of replies) {
    assert.equal(r.status, 200, r.body);
    assert.equal((JSON.parse(r.body) as Echo).instance, "sleepy-woken");
  }
  assert.equal(edge.supervisor.wakeCalls - calls, 1, "one wake for all waiting requests");
  assert.equal((await get("sleepy.test")).status, 200, "now served without a wake");
  assert.equal(edge.supervisor.wakeCalls - calls, 1);
});

test("requests beyond the queue bound get 503; a wake past the timeout gets 504 and is logged", async () => {
  let release: () => void = () => undefined;
  edge.supervisor.wake = () =>
    new Promise((_, reject) => {
      release = () =>
        reject(
          new ConnectError(
            "app stuck/production did not report readiness within 30 s: Error: connect ECONNREFUSED db:5432",
            Code.DeadlineExceeded,
          ),
        );
    });
  const waiting = [get("stuck.test"), get("stuck.test"), get("stuck.test")];
  await new Promise((r) => setTimeout(r, 300));
  const overflow = await get("stuck.test");
  assert.equal(overflow.status, 503);
  assert.equal(overflow.headers["retry-after"], "1");
  for (const r of await Promise.all(waiting)) {
    assert.equal(r.status, 504);
    assert.equal(r.body, "App startup timed out");
  }
  release();
  await waitFor(async () => /"msg":"app startup timed out".*ECONNREFUSED db:5432/.test(await edge.logs()), {
    what: "the startup output in the edge's log",
  }).catch(async (err: Error) => {
    throw new Error(`${err.message}\n${await edge.logs()}`);
  });
  const line = (await edge.logs()).split("\n").find((l) => l.includes("app startup timed out")) ?? "";
  assert.match(line, /"app":"stuck"/);
  assert.match(line, /"env":"production"/);
});

test("a wake that fails gets 502, and the next request tries again", async () => {
  let attempts = 0;
  edge.supervisor.wake = async () => {
    attempts++;
    throw new ConnectError("process exited during startup (exit code 1): boom", Code.FailedPrecondition);
  };
  const first = await get("crashy.test");
  assert.equal(first.status, 502);
  assert.equal((await get("crashy.test")).status, 502);
  assert.equal(attempts, 2);
  await waitFor(async () => /"msg":"app startup failed".*boom/.test(await edge.logs()), {
    what: "the failure log",
  });
});
