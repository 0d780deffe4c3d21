import type { InstanceEvent } from "../events/instance-events.js";
import type { Instance, InstanceHooks } from "../instances/instance.js";
import { describeExit } from "../process/app-process.js";
import type { Deployment } from "./deployment.js";

/** An instance event with the fields every type shares. */
export function instanceEvent(instance: Instance, type: InstanceEvent["type"]): InstanceEvent {
  const phase = instance.phase;
  const exit = phase.kind === "stopped" ? phase.exit : undefined;
  return {
    app: instance.app,
    env: instance.env,
    instanceId: instance.id,
    kind: "http",
    type,
    pid: instance.process?.pid ?? 0,
    exitCode: exit?.known && exit.code !== null ? exit.code : -1,
    signal: exit?.signal ?? "",
    aliveMs: type === "exited" ? Date.now() - instance.startedAtMs : 0,
    timeMs: Date.now(),
  };
}

/**
 * What happens around an instance's phase changes: its record is written before anything else
 * learns of the change (so a successor can adopt it), endpoints are republished when it enters
 * or leaves traffic, events go to watchers, and the app's log gets a server line.
 */
export function instanceHooks(d: Deployment): InstanceHooks {
  const { store, events } = d.ctx;
  return {
    changed(instance, previous) {
      const phase = instance.phase;
      switch (phase.kind) {
        case "starting":
          break;
        case "ready":
        case "healthy":
        case "draining": {
          const proc = instance.process;
          if (!proc) break;
          if (previous.kind === "starting") {
            store.putInstance({
              id: instance.id,
              app: instance.app,
              env: instance.env,
              generation: instance.generation,
              version: instance.version,
              pid: proc.pid,
              startTicks: proc.startTicks,
              port: phase.port,
              token: instance.token,
              phase: phase.kind,
              startedAtMs: instance.startedAtMs,
              outFifo: instance.fifos.out,
              errFifo: instance.fifos.err,
            });
            if (phase.kind === "ready") {
              events.emit(instanceEvent(instance, "spawned"));
              d.note(`instance ${instance.id} started (pid ${proc.pid}, port ${phase.port})`, instance.id);
            }
          } else store.setInstancePhase(instance.id, phase.kind);
          if (phase.kind === "healthy" && previous.kind === "ready") {
            events.emit(instanceEvent(instance, "healthy"));
            d.note(`instance ${instance.id} is healthy`, instance.id);
            if (!d.onProbation(instance)) d.becameHealthy(instance);
          }
          break;
        }
        case "unhealthy":
          break;
        case "stopped":
          store.deleteInstance(instance.id);
          if (instance.process) {
            events.emit(instanceEvent(instance, "exited"));
            d.note(
              `instance ${instance.id} exited (${phase.exit ? describeExit(phase.exit) : "stopped"})`,
              instance.id,
            );
          }
          break;
      }
      if ((previous.kind === "healthy") !== (phase.kind === "healthy")) d.publish();
    },
    died: (instance, reason) => d.onDeath(instance, reason),
    probed: (instance) => d.onProbed(instance),
    line: (instance, stream, text) =>
      d.appLog.append({ timeMs: Date.now(), source: stream, instanceId: instance.id, text }),
  };
}
