import type {
  AgentServiceSetDnsProviderRequest,
  ApplyResponse,
  AppStatus,
  CertificateInfo,
  LogEntry,
  ReleaseSpec,
} from "@tako/proto";

// What agentd needs from the other daemons, as plain interfaces: the composition root wires them
// to RPC clients; a daemon this build does not install is `undefined`, and the step that needs it
// says so instead of pretending.

type Init<T> = Omit<T, "$typeName" | "$unknown">;

export interface SupervisorPort {
  /** Rolling update onto `release`; yields progress, throws with the reason on failure. */
  apply(
    release: Init<ReleaseSpec>,
    signal: AbortSignal,
  ): AsyncIterable<Pick<ApplyResponse, "detail" | "done" | "newInstances" | "oldInstances">>;
  scale(app: string, env: string, instances: number): Promise<void>;
  status(app: string, env: string): Promise<AppStatus[]>;
  logs(
    req: { app: string; env: string; sinceUnixMs: bigint; tailLines: number; follow: boolean },
    signal: AbortSignal,
  ): AsyncIterable<LogEntry[]>;
  stop(app: string, env: string, purge: boolean): Promise<{ existed: boolean }>;
}

export interface EdgePort {
  setRoutes(app: string, env: string, routes: readonly string[]): Promise<void>;
  removeRoutes(app: string, env: string): Promise<void>;
}

export interface CertPort {
  ensureCertificates(hosts: readonly string[], app: string, env: string): Promise<CertificateInfo[]>;
  setDnsProvider(req: Init<AgentServiceSetDnsProviderRequest>): Promise<void>;
}

export interface Ports {
  readonly supervisor: SupervisorPort | undefined;
  readonly edge: EdgePort | undefined;
  readonly certd: CertPort | undefined;
}
