// Every process of an edge generation accepts on the public sockets itself (no handing over of
// connections by IPC), and every one of them enforces the slow-client timeouts.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { type TLSSocket, connect as tlsConnect } from "node:tls";
import { establishedConnections, processesMentioning, waitFor } from "@tako/testkit";
import { type EdgeHarness, startEdge } from "./helpers/edge-harness.js";
import { startUpstreamApp, type UpstreamApp } from "./helpers/upstream-app.js";

let edge: EdgeHarness;
let app: UpstreamApp;
const open: TLSSocket[] = [];

before(async () => {
  edge = await startEdge({
    defaultCertNames: ["acc.test"],
    flags: ["--processes", "2", "--headers-timeout-ms", "1000"],
  });
  app = await startUpstreamApp("acc-1");
  edge.supervisor.set({
    app: "acc",
    env: "production",
    endpoints: [{ instanceId: app.instanceId, port: app.port }],
  });
  await edge.edge.setRoutes({ app: "acc", env: "production", routes: ["acc.test"] });
});

after(async () => {
  for (const s of open) s.destroy();
  await edge?.stop();
  await app?.close();
});

/** The edge's serving processes: the primary (the daemon's worker) and its helper. */
async function edgeProcesses(): Promise<{ primary: number; helper: number }> {
  const all = await processesMentioning(edge.root);
  const helper = all.find((p) => p.argv.some((a) => a.endsWith("helper-main.js")));
  assert.ok(helper, "a helper runs");
  const primary = await edge.pid();
  return { primary, helper: helper.pid };
}

/** A TLS connection (HTTP/1.1) to the edge that has sent `text`; resolves once it is secure. */
function connection(text: string): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      {
        host: "127.0.0.1",
        port: edge.httpsPort,
        servername: "acc.test",
        ca: edge.ca.certPem,
        ALPNProtocols: ["http/1.1"],
      },
      () => {
        socket.write(text);
        resolve(socket);
      },
    );
    socket.once("error", reject);
    open.push(socket);
  });
}

/** Opens connections in batches until the helper holds at least one of them. */
async function untilTheHelperHolds(text: string): Promise<TLSSocket[]> {
  const { primary, helper } = await edgeProcesses();
  const sockets: TLSSocket[] = [];
  for (let batch = 0; batch < 10; batch++) {
    sockets.push(...(await Promise.all(Array.from({ length: 10 }, () => connection(text)))));
    if ((await establishedConnections(helper, edge.httpsPort)) > 0) break;
  }
  const held = {
    primary: await establishedConnections(primary, edge.httpsPort),
    helper: await establishedConnections(helper, edge.httpsPort),
  };
  assert.ok(held.helper > 0, `the helper accepts connections itself: ${JSON.stringify(held)}`);
  return sockets;
}

test("the primary and its helper both accept client connections on the public socket", async () => {
  const { primary, helper } = await edgeProcesses();
  const sockets = await untilTheHelperHolds("GET / HTTP/1.1\r\nHost: acc.test\r\n\r\n");
  // Every connection got its answer, whichever process accepted it.
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve, reject) => {
          let got = "";
          s.on("data", (c: Buffer) => {
            got += c.toString();
            if (got.includes("acc-1")) resolve();
          });
          s.on("close", () => reject(new Error(`closed before the answer: ${got}`)));
        }),
    ),
  );
  assert.ok((await establishedConnections(primary, edge.httpsPort)) > 0, "the primary holds connections too");
  assert.ok((await establishedConnections(helper, edge.httpsPort)) > 0);
  for (const s of sockets) s.destroy();
});

test("a client that never finishes its headers is cut by the header timeout in every process", async () => {
  const started = Date.now();
  const sockets = await untilTheHelperHolds("GET / HTTP/1.1\r\nHost: acc.test\r\nX-Slow: ");
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve, reject) => {
          if (s.closed) return resolve();
          s.on("close", () => resolve());
          setTimeout(() => reject(new Error("still open after 15 s")), 15_000).unref();
        }),
    ),
  );
  assert.ok(Date.now() - started >= 900, "not before the header timeout");
  const { helper } = await edgeProcesses();
  await waitFor(async () => (await establishedConnections(helper, edge.httpsPort)) === 0, {
    what: "the helper to hold no connection",
  });
});
