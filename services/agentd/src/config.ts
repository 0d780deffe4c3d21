import type { FlagSpecs } from "@tako/daemon";

/** agentd's flags beyond --root. */
export const AGENTD_FLAGS = {
  httpPort: {
    type: "integer",
    default: 80,
    min: 0,
    max: 65535,
    description: "public HTTP port of the edge (reported)",
  },
  httpsPort: {
    type: "integer",
    default: 443,
    min: 0,
    max: 65535,
    description: "public HTTPS port of the edge (URLs)",
  },
  keepReleases: {
    type: "integer",
    default: 10,
    min: 1,
    max: 1000,
    description: "releases kept per app/env, the live one included",
  },
  installTimeoutMs: {
    type: "integer",
    default: 600_000,
    min: 1000,
    description: "limit for installing a release's dependencies",
  },
  releaseCommandTimeoutMs: {
    type: "integer",
    default: 600_000,
    min: 1000,
    description: "limit for a release command",
  },
} as const satisfies FlagSpecs;
