import type { MessageInitShape } from "@bufbuild/protobuf";
import type { DeployResponseSchema, DeployStep } from "@tako/proto";

/** One message of a Deploy or Rollback stream (both carry DeployStep / DeployDone). */
export type DeployEvent = MessageInitShape<typeof DeployResponseSchema>;
type StepInit = Omit<DeployStep, "$typeName" | "$unknown">;

/** Emits the start and end of named steps and remembers which one is running. */
export class Steps {
  current = "start";
  #startedAt = 0;
  start(name: string, detail = ""): DeployEvent {
    this.current = name;
    this.#startedAt = Date.now();
    return {
      msg: { case: "step", value: { name, finished: false, durationMs: 0n, detail } satisfies StepInit },
    };
  }
  progress(detail: string): DeployEvent {
    return { msg: { case: "step", value: { name: this.current, finished: false, durationMs: 0n, detail } } };
  }
  finish(detail = ""): DeployEvent {
    const durationMs = BigInt(Date.now() - this.#startedAt);
    return { msg: { case: "step", value: { name: this.current, finished: true, durationMs, detail } } };
  }
}
