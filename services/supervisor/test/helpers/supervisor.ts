import { create } from "@bufbuild/protobuf";
import type { Client } from "@connectrpc/connect";
import type { HostPaths } from "@tako/daemon";
import { type ApplyResponse, type ReleaseSpec, ReleaseSpecSchema, SupervisorService } from "@tako/proto";
import { createRpcChannel, createRpcClient, type RpcChannel } from "@tako/rpc";
import { startTestHost, type TestHost } from "@tako/testkit";
import { FIXTURE_MAIN, type FixtureApp, installRelease } from "./fixtures.js";

export type SupervisorClient = Client<typeof SupervisorService>;

/** A test host running only the supervisor, with a client on its socket. */
export interface SupervisorHost {
  readonly host: TestHost;
  readonly client: SupervisorClient;
  /** Installs a fixture as release `version` of {app}/production and rolls it out. */
  deploy(options: DeployOptions): Promise<ApplyResponse[]>;
  stop(): Promise<void>;
}

export interface DeployOptions {
  readonly app: string;
  readonly version: string;
  readonly fixture: FixtureApp;
  readonly vars?: Record<string, string>;
  readonly secrets?: Record<string, string>;
  readonly idleTimeoutMs?: number;
  readonly startupTimeoutMs?: number;
}

/** A client on a supervisor socket (its stable path). */
export function connect(socketPath: string): { client: SupervisorClient; channel: RpcChannel } {
  const channel = createRpcChannel(socketPath, { timeoutMs: 120_000 });
  return { client: createRpcClient(SupervisorService, channel), channel };
}

export async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

/** Installs the fixture as a release of {app}/production and describes it as agentd would. */
export async function releaseSpec(paths: HostPaths, o: DeployOptions): Promise<ReleaseSpec> {
  const releaseDir = await installRelease(paths, { app: o.app, version: o.version, fixture: o.fixture });
  return create(ReleaseSpecSchema, {
    app: o.app,
    env: "production",
    version: o.version,
    releaseDir,
    main: FIXTURE_MAIN[o.fixture],
    vars: o.vars ?? {},
    secrets: o.secrets ?? {},
    idleTimeoutMs: BigInt(o.idleTimeoutMs ?? 0),
    startupTimeoutMs: BigInt(o.startupTimeoutMs ?? 0),
  });
}

export async function startSupervisorHost(): Promise<SupervisorHost> {
  const host = await startTestHost({ daemons: ["supervisor"] });
  const { client, channel } = connect(host.socket("supervisor"));
  return {
    host,
    client,
    async deploy(o) {
      return collect(client.apply({ release: await releaseSpec(host.paths, o) }));
    },
    async stop() {
      channel.close();
      await host.stop();
    },
  };
}
