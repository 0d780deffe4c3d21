import type { Deployment } from "./deployment.js";

export type AppStateView = "running" | "idle" | "deploying" | "stopped" | "error";

export interface InstanceStatusView {
  readonly id: string;
  readonly phase: "starting" | "ready" | "healthy" | "unhealthy" | "draining" | "stopped";
  readonly pid: number;
  readonly port: number;
  readonly version: string;
  readonly startedAtMs: number;
  readonly requestsTotal: number;
}

export interface AppStatusView {
  readonly app: string;
  readonly env: string;
  readonly state: AppStateView;
  readonly version: string;
  readonly desired: number;
  readonly instances: readonly InstanceStatusView[];
  readonly lastError: string;
}

/** How a deployment looks from outside (Status RPC). */
export function statusOf(d: Deployment): AppStatusView {
  const instances = [...d.instances.values()].map((i) => ({
    id: i.id,
    phase: i.phase.kind,
    pid: i.process?.pid ?? 0,
    port: i.port,
    version: i.version,
    startedAtMs: i.startedAtMs,
    requestsTotal: i.traffic?.requestsTotal ?? 0,
  }));
  const healthy = instances.some((i) => i.phase === "healthy");
  const starting = instances.some((i) => i.phase === "starting" || i.phase === "ready");
  const state: AppStateView = d.stopped
    ? "stopped"
    : d.rollingOut
      ? "deploying"
      : healthy
        ? "running"
        : d.lastError !== "" && !starting
          ? "error"
          : d.desired === 0 && !starting
            ? "idle"
            : "deploying";
  return {
    app: d.app,
    env: d.env,
    state,
    version: d.prepared?.release.version ?? "",
    desired: d.desired,
    instances,
    lastError: d.lastError,
  };
}
