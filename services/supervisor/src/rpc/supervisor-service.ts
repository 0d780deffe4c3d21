import { create } from "@bufbuild/protobuf";
import type { ConnectRouter } from "@connectrpc/connect";
import { checkName } from "@tako/appspec";
import { TakoError } from "@tako/errors";
import {
  type ApplyResponse,
  ApplyResponseSchema,
  EndpointSchema,
  StopResponseSchema,
  SupervisorService,
  SupervisorServiceLogsResponseSchema,
  SupervisorServiceScaleResponseSchema,
  SupervisorServiceStatusResponseSchema,
  WakeResponseSchema,
  WatchEndpointsResponseSchema,
} from "@tako/proto";
import type { Fleet } from "../fleet/fleet.js";
import { AppLog } from "../logs/app-log.js";
import { readHistory } from "../logs/log-history.js";
import type { LogLine } from "../logs/log-line.js";
import { AsyncQueue } from "../streams/async-queue.js";
import {
  appEndpointsMessage,
  appStatusMessage,
  instanceEventMessage,
  logEntryMessage,
  releaseOf,
} from "./convert.js";

/** Log entries per response message. */
const LOG_BATCH = 500;

function assertDeployment(app: string, env: string): void {
  checkName("app", app);
  checkName("env", env);
}

/** Thin handlers of tako.v1.SupervisorService: decode, call the fleet, encode. */
export function supervisorServiceRoutes(fleet: Fleet) {
  return (router: ConnectRouter) => {
    router.service(SupervisorService, {
      async *apply(req, ctx) {
        if (!req.release) throw new TakoError("INVALID_ARGUMENT", "Apply needs a release");
        const release = releaseOf(req.release);
        assertDeployment(release.app, release.env);
        const queue = new AsyncQueue<ApplyResponse>(ctx.signal);
        const done = fleet
          .apply(release, (detail) => queue.push(create(ApplyResponseSchema, { detail })))
          .then((result) => {
            queue.push(
              create(ApplyResponseSchema, {
                detail: `release ${release.version} is live`,
                done: true,
                newInstances: result.newInstances,
                oldInstances: result.oldInstances,
              }),
            );
          })
          .finally(() => queue.close());
        done.catch(() => undefined);
        yield* queue;
        await done;
      },

      async scale(req) {
        assertDeployment(req.app, req.env);
        await fleet.scale(req.app, req.env, req.instances);
        return create(SupervisorServiceScaleResponseSchema, {
          app: req.app,
          env: req.env,
          instances: req.instances,
        });
      },

      async wake(req) {
        assertDeployment(req.app, req.env);
        const { instance, coldStart } = await fleet.wake(req.app, req.env);
        return create(WakeResponseSchema, {
          endpoint: create(EndpointSchema, {
            instanceId: instance.id,
            host: "127.0.0.1",
            port: instance.port,
            version: instance.version,
          }),
          coldStart,
        });
      },

      async *watchEndpoints(_req, ctx) {
        for await (const change of fleet.watchEndpoints(ctx.signal)) {
          yield create(WatchEndpointsResponseSchema, {
            snapshot: change.snapshot,
            apps: change.apps.map(appEndpointsMessage),
            removed: change.snapshot ? [] : [...change.removed],
          });
        }
      },

      async status(req) {
        if (req.app !== "") checkName("app", req.app);
        if (req.env !== "") checkName("env", req.env);
        const apps = await fleet.status(req.app, req.env);
        return create(SupervisorServiceStatusResponseSchema, { apps: apps.map(appStatusMessage) });
      },

      async *logs(req, ctx) {
        assertDeployment(req.app, req.env);
        const log = await fleet.logOf(req.app, req.env);
        if (!log) {
          throw new TakoError("APP_NOT_FOUND", `${req.app}/${req.env} is not deployed on this host`, {
            metadata: { app: req.app, env: req.env },
          });
        }
        const queue = req.follow ? new AsyncQueue<LogLine>(ctx.signal) : undefined;
        const { snapshot, stop } = await log.follow(queue ? (line) => queue.push(line) : undefined);
        try {
          let history: LogLine[];
          try {
            history = await readHistory(snapshot, {
              sinceMs: Number(req.sinceUnixMs),
              tailLines: req.tailLines,
            });
          } finally {
            AppLog.closeSnapshot(snapshot);
          }
          for (let i = 0; i < history.length; i += LOG_BATCH) {
            yield create(SupervisorServiceLogsResponseSchema, {
              entries: history.slice(i, i + LOG_BATCH).map(logEntryMessage),
            });
          }
          if (!queue) return;
          // An empty message marks the end of history for followers.
          yield create(SupervisorServiceLogsResponseSchema, { entries: [] });
          for await (const line of queue) {
            yield create(SupervisorServiceLogsResponseSchema, { entries: [logEntryMessage(line)] });
          }
        } finally {
          stop();
        }
      },

      async stop(req) {
        assertDeployment(req.app, req.env);
        const { stopped, existed } = await fleet.stopApp(req.app, req.env, req.purge);
        return create(StopResponseSchema, { stopped, existed });
      },

      async ensureWorker(req) {
        assertDeployment(req.app, req.env);
        throw new TakoError(
          "UNIMPLEMENTED",
          "workflow workers are not supported by this supervisor yet (they arrive with workflowd)",
        );
      },

      async *watchInstanceEvents(req, ctx) {
        if (req.app !== "") checkName("app", req.app);
        for await (const event of await fleet.watchInstanceEvents(req.app, ctx.signal)) {
          yield instanceEventMessage(event);
        }
      },
    });
  };
}
