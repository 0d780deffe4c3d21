import type { FlagSpecs } from "@tako/daemon";

/** agentd's flags beyond --root. The edge ports are reported in ServerInfo. */
export const AGENTD_FLAGS = {
  httpPort: { type: "integer", default: 80, min: 0, max: 65535, description: "public HTTP port of the edge" },
  httpsPort: {
    type: "integer",
    default: 443,
    min: 0,
    max: 65535,
    description: "public HTTPS port of the edge",
  },
} as const satisfies FlagSpecs;
