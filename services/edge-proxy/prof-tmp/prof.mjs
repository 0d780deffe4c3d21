import { readFileSync } from "node:fs";
import * as net from "node:net";
import { createLogger } from "@tako/daemon";
import { EdgeRuntime } from "../dist/src/edge-runtime.js";

const [, , port, upstreamPort, certFile, keyFile] = process.argv;
const config = {
  httpPort: 1,
  httpsPort: 443,
  metricsPort: 0,
  bindHost: "127.0.0.1",
  maxBodyBytes: 128 << 20,
  maxRequestsPerIp: 2048,
  headersTimeoutMs: 15000,
  requestTimeoutMs: 300000,
  idleTimeoutMs: 60000,
  handshakeTimeoutMs: 10000,
  upstreamTimeoutMs: 60000,
  coldStartTimeoutMs: 30000,
  coldStartQueueMax: 1000,
  processes: 1,
  root: "/tmp",
};
const rt = new EdgeRuntime({
  config,
  log: createLogger({ write: () => {} }),
  processes: 1,
  saveRoutes: async () => {},
  wake: async () => {
    throw new Error("x");
  },
});
rt.endpoints.apply({
  snapshot: true,
  removed: [],
  apps: [
    {
      app: "bench",
      env: "production",
      desiredInstances: 1,
      releaseDir: "",
      endpoints: [{ instanceId: "u", host: "127.0.0.1", port: Number(upstreamPort) }],
    },
  ],
});
rt.certificates.apply({
  snapshot: true,
  removed: [],
  upserted: [
    {
      names: ["bench.test"],
      certChainPem: readFileSync(certFile, "utf8"),
      privateKeyPem: readFileSync(keyFile, "utf8"),
      isDefault: true,
    },
  ],
});
rt.registry.load([{ app: "bench", env: "production", routes: ["bench.test"] }]);
const a = net.createServer();
const b = net.createServer();
await new Promise((r) => a.listen(Number(port), "127.0.0.1", r));
await new Promise((r) => b.listen(0, "127.0.0.1", r));
await rt.listeners.listen(a, b);
console.log("ready");
process.on("SIGINT", () => process.exit(0));
setTimeout(() => process.exit(0), Number(process.env.PROF_SECONDS ?? 12) * 1000);
