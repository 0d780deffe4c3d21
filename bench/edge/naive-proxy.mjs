#!/usr/bin/env node
// The reference peers: "a naive http-proxy-3 proxy", single process or in a node:cluster
// of N processes, with an upstream keep-alive agent. Nothing else: no routing, request ids,
// limits, metrics or drain; what the edge does beyond this is what it costs over the floor.
//   node bench/edge/naive-proxy.mjs --port P --upstream-port U --cert F --key F [--processes N]
import cluster from "node:cluster";
import { readFileSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import { parseArgs } from "node:util";
import { createProxyServer } from "http-proxy-3";

const { values: opts } = parseArgs({
  options: {
    port: { type: "string" },
    "upstream-port": { type: "string" },
    cert: { type: "string" },
    key: { type: "string" },
    processes: { type: "string", default: "1" },
  },
});
const processes = Number(opts.processes);

if (processes > 1 && cluster.isPrimary) {
  // node:cluster's default on Linux: the primary accepts and hands connections out round robin.
  for (let i = 0; i < processes; i++) cluster.fork();
  process.on("SIGTERM", () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill("SIGTERM");
    process.exit(0);
  });
} else {
  const proxy = createProxyServer({
    target: `http://127.0.0.1:${opts["upstream-port"]}`,
    xfwd: true,
    agent: new http.Agent({ keepAlive: true }),
  });
  proxy.on("error", (_err, _req, res) => {
    if ("writeHead" in res && !res.headersSent) res.writeHead(502).end();
    else res.destroy();
  });
  https
    .createServer(
      { cert: readFileSync(opts.cert), key: readFileSync(opts.key), ALPNProtocols: ["http/1.1"] },
      (req, res) => proxy.web(req, res),
    )
    .listen(Number(opts.port), "127.0.0.1");
  process.on("SIGTERM", () => process.exit(0));
}
