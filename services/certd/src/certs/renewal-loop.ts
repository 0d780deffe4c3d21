import type { Logger } from "@tako/daemon";

export interface RenewalLoopOptions {
  /** One pass; resolves with when a postponed retry is due (undefined: none waiting). */
  readonly pass: () => Promise<number | undefined>;
  readonly checkIntervalMs: number;
  readonly log: Logger;
  readonly now?: () => number;
}

type LoopState =
  | { readonly kind: "idle" }
  | { readonly kind: "running"; readonly stop: AbortController; readonly done: Promise<void> }
  | { readonly kind: "stopped" };

/**
 * Runs renewal passes: at start, every `checkIntervalMs`, when a postponed retry is due, and when
 * woken. Owns its timer; `stop` waits for a pass in progress to end.
 */
export class RenewalLoop {
  readonly #o: RenewalLoopOptions;
  readonly #now: () => number;
  #state: LoopState = { kind: "idle" };
  #wake: (() => void) | undefined;
  #woken = false;

  constructor(options: RenewalLoopOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    if (this.#state.kind !== "idle") return;
    const stop = new AbortController();
    this.#state = { kind: "running", stop, done: this.#run(stop.signal) };
  }

  /** Runs a pass as soon as the current one (if any) finishes. */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  async stop(): Promise<void> {
    const state = this.#state;
    this.#state = { kind: "stopped" };
    if (state.kind !== "running") return;
    state.stop.abort();
    this.#wake?.();
    await state.done;
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      this.#woken = false;
      let nextRetryMs: number | undefined;
      try {
        nextRetryMs = await this.#o.pass();
      } catch (err) {
        this.#o.log.error("renewal pass failed", { error: err });
      }
      if (signal.aborted || this.#woken) continue;
      const now = this.#now();
      const waitMs = Math.max(
        0,
        Math.min(
          this.#o.checkIntervalMs,
          nextRetryMs === undefined ? Number.POSITIVE_INFINITY : nextRetryMs - now,
        ),
      );
      await new Promise<void>((resolve) => {
        // setTimeout's limit is 2^31-1 ms; waking early only costs an empty pass.
        const timer = setTimeout(resolve, Math.min(waitMs, 2 ** 31 - 1));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }
}
