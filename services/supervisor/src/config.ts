import { availableParallelism } from "node:os";
import type { FlagSpecs } from "@tako/daemon";

/** The supervisor's flags beyond --root. Every default fits production; tests pass none. */
export const SUPERVISOR_FLAGS = {
  maxInstances: {
    type: "integer",
    default: 2 * availableParallelism(),
    min: 1,
    max: 1024,
    description: "most instances one {app}/{env} may run on this host (default: 2 × CPUs)",
  },
  drainTimeoutMs: {
    type: "integer",
    default: 30_000,
    min: 0,
    max: 3_600_000,
    description: "how long a stopping instance may finish its requests before SIGKILL",
  },
  rolloutStabilityMs: {
    type: "integer",
    default: 2_000,
    min: 0,
    max: 600_000,
    description: "how long each new instance must stay healthy before an old one is drained",
  },
  probeTimeoutMs: {
    type: "integer",
    default: 5_000,
    min: 100,
    max: 60_000,
    description: "deadline of one health probe",
  },
} as const satisfies FlagSpecs;
