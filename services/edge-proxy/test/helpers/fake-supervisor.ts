// An honest double of the supervisor's documented contract (proto/tako/v1/supervisor.proto):
// WatchEndpoints sends a snapshot then one message per change; Wake runs a test-provided function.
// Served with the project's RpcServer on the real socket path the edge dials.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type AppEndpoints,
  AppEndpointsSchema,
  SupervisorService,
  WakeResponseSchema,
  type WatchEndpointsResponse,
  WatchEndpointsResponseSchema,
} from "@tako/proto";
import { RpcServer } from "@tako/rpc";
import { ChangeStream } from "./change-stream.js";

export interface FakeEndpoint {
  readonly instanceId: string;
  readonly port: number;
}

export interface FakeApp {
  readonly app: string;
  readonly env: string;
  readonly endpoints: readonly FakeEndpoint[];
  readonly desiredInstances?: number;
  readonly releaseDir?: string;
}

export type WakeFn = (app: string, env: string) => Promise<FakeEndpoint>;

export class FakeSupervisor {
  readonly #apps = new Map<string, AppEndpoints>();
  readonly #changes = new ChangeStream<WatchEndpointsResponse>();
  readonly #server: RpcServer;
  wake: WakeFn = async () => {
    throw new ConnectError("no wake configured", Code.FailedPrecondition);
  };
  wakeCalls = 0;

  constructor() {
    this.#server = new RpcServer({
      routes: (router) =>
        router.service(SupervisorService, {
          watchEndpoints: (_req, ctx) =>
            this.#changes.follow(
              () => create(WatchEndpointsResponseSchema, { snapshot: true, apps: [...this.#apps.values()] }),
              ctx.signal,
            ),
          wake: async (req) => {
            this.wakeCalls++;
            const e = await this.wake(req.app, req.env);
            return create(WakeResponseSchema, {
              coldStart: true,
              endpoint: { instanceId: e.instanceId, host: "127.0.0.1", port: e.port, version: "v1" },
            });
          },
        }),
    });
  }

  listen(socketPath: string): Promise<void> {
    return this.#server.listen(socketPath);
  }

  set(app: FakeApp): void {
    const message = create(AppEndpointsSchema, {
      app: app.app,
      env: app.env,
      desiredInstances: app.desiredInstances ?? app.endpoints.length,
      releaseDir: app.releaseDir ?? "",
      endpoints: app.endpoints.map((e) => ({
        instanceId: e.instanceId,
        host: "127.0.0.1",
        port: e.port,
        version: "v1",
      })),
    });
    this.#apps.set(`${app.app}/${app.env}`, message);
    this.#changes.push(create(WatchEndpointsResponseSchema, { snapshot: false, apps: [message] }));
  }

  remove(app: string, env: string): void {
    this.#apps.delete(`${app}/${env}`);
    this.#changes.push(create(WatchEndpointsResponseSchema, { snapshot: false, removed: [`${app}/${env}`] }));
  }

  close(): Promise<void> {
    this.#changes.end();
    return this.#server.close();
  }
}
