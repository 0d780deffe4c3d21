import { create } from "@bufbuild/protobuf";
import {
  AppEndpointsSchema,
  AppState,
  AppStatusSchema,
  InstanceEventType,
  InstanceKind,
  InstanceState,
  InstanceStatusSchema,
  type LogEntry,
  LogEntrySchema,
  LogStream,
  type ReleaseSpec,
  WatchInstanceEventsResponseSchema,
} from "@tako/proto";
import type { AppStatusView } from "../deployments/app-status.js";
import type { AppEndpointsView } from "../endpoints/endpoint-table.js";
import type { InstanceEvent } from "../events/instance-events.js";
import type { LogLine } from "../logs/log-line.js";
import type { Release } from "../release.js";

// Domain views ⇄ tako.v1 messages, in one place.

export function releaseOf(spec: ReleaseSpec): Release {
  return {
    app: spec.app,
    env: spec.env,
    version: spec.version,
    releaseDir: spec.releaseDir,
    main: spec.main,
    vars: { ...spec.vars },
    secrets: { ...spec.secrets },
    idleTimeoutMs: Number(spec.idleTimeoutMs),
    startupTimeoutMs: Number(spec.startupTimeoutMs),
  };
}

export function appEndpointsMessage(view: AppEndpointsView) {
  return create(AppEndpointsSchema, {
    app: view.app,
    env: view.env,
    endpoints: view.endpoints.map((e) => ({ ...e })),
    desiredInstances: view.desiredInstances,
    releaseDir: view.releaseDir,
  });
}

const INSTANCE_STATE = {
  starting: InstanceState.STARTING,
  ready: InstanceState.READY,
  healthy: InstanceState.HEALTHY,
  unhealthy: InstanceState.UNHEALTHY,
  draining: InstanceState.DRAINING,
  stopped: InstanceState.STOPPED,
} as const;

const APP_STATE = {
  running: AppState.RUNNING,
  idle: AppState.IDLE,
  deploying: AppState.DEPLOYING,
  stopped: AppState.STOPPED,
  error: AppState.ERROR,
} as const;

export function appStatusMessage(view: AppStatusView) {
  return create(AppStatusSchema, {
    app: view.app,
    env: view.env,
    state: APP_STATE[view.state],
    version: view.version,
    desiredInstances: view.desired,
    lastError: view.lastError,
    instances: view.instances.map((i) =>
      create(InstanceStatusSchema, {
        id: i.id,
        state: INSTANCE_STATE[i.phase],
        pid: i.pid,
        port: i.port,
        version: i.version,
        startedAtUnixMs: BigInt(i.startedAtMs),
        requestsTotal: BigInt(i.requestsTotal),
      }),
    ),
  });
}

const LOG_STREAM = { out: LogStream.STDOUT, err: LogStream.STDERR, server: LogStream.TAKO } as const;

export function logEntryMessage(line: LogLine): LogEntry {
  return create(LogEntrySchema, {
    timeUnixMs: BigInt(line.timeMs),
    stream: LOG_STREAM[line.source],
    instanceId: line.instanceId,
    text: line.text,
  });
}

const EVENT_TYPE = {
  spawned: InstanceEventType.SPAWNED,
  healthy: InstanceEventType.HEALTHY,
  exited: InstanceEventType.EXITED,
} as const;

export function instanceEventMessage(e: InstanceEvent) {
  return create(WatchInstanceEventsResponseSchema, {
    app: e.app,
    env: e.env,
    instanceId: e.instanceId,
    kind: e.kind === "http" ? InstanceKind.HTTP : InstanceKind.WORKER,
    type: EVENT_TYPE[e.type],
    pid: e.pid,
    exitCode: e.exitCode,
    signal: e.signal,
    aliveMs: BigInt(e.aliveMs),
    timeUnixMs: BigInt(e.timeMs),
  });
}
