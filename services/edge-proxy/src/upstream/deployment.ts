import type { PublicFiles } from "../static/public-files.js";
import type { UpstreamPool } from "./upstream-pool.js";

/** One healthy app instance the edge may send requests to, with its keep-alive connections. */
export interface Upstream {
  readonly instanceId: string;
  readonly host: string;
  readonly port: number;
  /** http-proxy-3's target (WebSocket upgrades), built once per endpoint. */
  readonly target: { readonly protocol: "http:"; readonly host: string; readonly port: number };
  /** Its keep-alive connections. */
  readonly pool: UpstreamPool;
}

/**
 * The live state of one {app}/{env} as the hot path reads it: routes point at this object, the
 * supervisor's endpoint stream updates it in place.
 */
export interface Deployment {
  /** "{app}/{env}" */
  readonly key: string;
  readonly app: string;
  readonly env: string;
  /** Healthy instances, in the supervisor's order. */
  upstreams: readonly Upstream[];
  /** Round-robin cursor into `upstreams`. */
  cursor: number;
  /** The supervisor's desired instance count; undefined while it does not know the app. */
  desiredInstances: number | undefined;
  /** Live release directory ("" before the first rollout). */
  releaseDir: string;
  /** Index of `<releaseDir>/public`, built when the release changes. */
  publicFiles: PublicFiles | undefined;
}

export const deploymentKey = (app: string, env: string) => `${app}/${env}`;

/** Picks the next healthy instance, round robin; undefined when none is healthy. */
export function nextUpstream(deployment: Deployment): Upstream | undefined {
  const list = deployment.upstreams;
  if (list.length === 0) return undefined;
  if (deployment.cursor >= list.length) deployment.cursor = 0;
  return list[deployment.cursor++];
}
