import type { ChallengeUpdate } from "../acme/challenge-store.js";
import type { EdgeConfig } from "../config.js";
import type { MetricsSnapshot } from "../metrics/edge-metrics.js";
import type { StoredRoutes } from "../store/route-store.js";
import type { CertificateUpdate } from "../tls/certificate-store.js";
import type { EndpointUpdate } from "../upstream/endpoint-state.js";

// Messages between the edge process that owns edge.sock (the primary) and the helper processes
// of the same generation that serve traffic with it. Helpers hold a replica of the primary's
// state, so their hot path only reads memory too.

export type ToHelper =
  /** A handle of a public socket travels with this, for the helper to accept on. */
  | { readonly type: "edge:accept"; readonly listener: "https" | "http" }
  | {
      readonly type: "edge:init";
      readonly config: EdgeConfig;
      readonly processes: number;
      /** TLS session ticket keys of the generation, base64. */
      readonly ticketKeys: string;
      readonly routes: readonly StoredRoutes[];
      readonly endpoints: EndpointUpdate;
      readonly certificates: CertificateUpdate;
      readonly challenges: ChallengeUpdate;
    }
  | { readonly type: "edge:routes"; readonly routes: readonly StoredRoutes[] }
  | { readonly type: "edge:endpoints"; readonly update: EndpointUpdate }
  | { readonly type: "edge:certificates"; readonly update: CertificateUpdate }
  | { readonly type: "edge:challenges"; readonly update: ChallengeUpdate }
  | { readonly type: "edge:metrics"; readonly id: number }
  | { readonly type: "edge:drain"; readonly deadlineMs: number };

export type FromHelper =
  | { readonly type: "edge:ready" }
  | { readonly type: "edge:metrics"; readonly id: number; readonly snapshot: MetricsSnapshot };

export function isToHelper(value: unknown): value is ToHelper {
  return (
    typeof value === "object" &&
    value !== null &&
    String((value as { type?: unknown }).type).startsWith("edge:")
  );
}

export const isFromHelper = isToHelper as (value: unknown) => value is FromHelper;
