import { AsyncQueue } from "../streams/async-queue.js";

export type InstanceEventType = "spawned" | "healthy" | "exited";

/** Something that happened to an app process (for workflowd: cold crash vs clean idle exit). */
export interface InstanceEvent {
  readonly app: string;
  readonly env: string;
  readonly instanceId: string;
  readonly kind: "http" | "worker";
  readonly type: InstanceEventType;
  readonly pid: number;
  /** For "exited": the exit code, -1 when killed by a signal or unknown. */
  readonly exitCode: number;
  /** For "exited": the signal name when killed by one. */
  readonly signal: string;
  /** For "exited": how long the process lived. */
  readonly aliveMs: number;
  readonly timeMs: number;
}

/**
 * Fan-out of instance events. A watcher first gets the current state of every live instance
 * (as "spawned" or "healthy" events), then events as they happen.
 */
export class InstanceEvents {
  readonly #queues = new Set<{ app: string; queue: AsyncQueue<InstanceEvent> }>();

  emit(event: InstanceEvent): void {
    for (const { app, queue } of this.#queues) if (app === "" || app === event.app) queue.push(event);
  }

  watch(app: string, current: () => InstanceEvent[], signal: AbortSignal): AsyncIterable<InstanceEvent> {
    const queue = new AsyncQueue<InstanceEvent>(signal);
    const entry = { app, queue };
    for (const event of current()) if (app === "" || event.app === app) queue.push(event);
    this.#queues.add(entry);
    signal.addEventListener("abort", () => this.#queues.delete(entry), { once: true });
    return queue;
  }
}
