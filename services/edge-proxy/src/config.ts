import type { DaemonConfig, FlagSpecs } from "@tako/daemon";

/** edge-proxy's flags beyond --root. Limits default to the original Tako's numbers (§1). */
export const EDGE_FLAGS = {
  httpPort: { type: "integer", default: 80, min: 1, max: 65535, description: "public HTTP port" },
  httpsPort: { type: "integer", default: 443, min: 1, max: 65535, description: "public HTTPS port" },
  metricsPort: {
    type: "integer",
    default: 9898,
    min: 0,
    max: 65535,
    description: "Prometheus metrics port on 127.0.0.1; 0 disables",
  },
  bindHost: { type: "string", default: "0.0.0.0", description: "address the public listeners bind" },
  maxBodyBytes: {
    type: "integer",
    default: 128 * 1024 * 1024,
    min: 0,
    description: "largest request body; larger gets 413",
  },
  maxRequestsPerIp: {
    type: "integer",
    default: 2048,
    min: 1,
    description: "concurrent requests one client IP may have in flight; more get 429",
  },
  headersTimeoutMs: {
    type: "integer",
    default: 15_000,
    min: 100,
    description: "time a client has to send a request's headers",
  },
  requestTimeoutMs: {
    type: "integer",
    default: 300_000,
    min: 100,
    description: "time a client has to send a whole request (headers and body)",
  },
  idleTimeoutMs: {
    type: "integer",
    default: 60_000,
    min: 100,
    description: "idle keep-alive connections (HTTP/1.1 and HTTP/2) are closed after this",
  },
  handshakeTimeoutMs: {
    type: "integer",
    default: 10_000,
    min: 100,
    description: "time a client has to complete the TLS handshake",
  },
  upstreamTimeoutMs: {
    type: "integer",
    default: 60_000,
    min: 100,
    description: "an app instance that sends nothing for this long fails the request with 502",
  },
  coldStartTimeoutMs: {
    type: "integer",
    default: 30_000,
    min: 100,
    description: "how long a request waits for an app scaled to zero to start; then 504",
  },
  coldStartQueueMax: {
    type: "integer",
    default: 1000,
    min: 1,
    description: "requests one app may have waiting for its cold start; more get 503",
  },
  processes: {
    type: "integer",
    default: 0,
    min: 0,
    max: 64,
    description: "edge processes serving traffic per generation; 0 = one per CPU",
  },
} as const satisfies FlagSpecs;

export type EdgeConfig = DaemonConfig<typeof EDGE_FLAGS>;
