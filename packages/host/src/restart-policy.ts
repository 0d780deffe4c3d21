// When a daemon crashes, the local host restarts it after a growing delay; when it keeps
// crashing (a crash loop), restarting cannot help, so it stops and says why.

export interface RestartPolicyOptions {
  /** Delay before the first restart; doubled for each further crash in the window. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** This many crashes within windowMs is a crash loop. */
  readonly maxCrashes?: number;
  readonly windowMs?: number;
}

export type RestartDecision =
  | { readonly action: "restart"; readonly delayMs: number; readonly crashesInWindow: number }
  | { readonly action: "give-up"; readonly crashesInWindow: number; readonly windowMs: number };

export class RestartPolicy {
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #maxCrashes: number;
  readonly #windowMs: number;
  #crashes: number[] = [];

  constructor(options: RestartPolicyOptions = {}) {
    this.#baseDelayMs = options.baseDelayMs ?? 250;
    this.#maxDelayMs = options.maxDelayMs ?? 10_000;
    this.#maxCrashes = options.maxCrashes ?? 5;
    this.#windowMs = options.windowMs ?? 60_000;
  }

  recordCrash(nowMs: number): RestartDecision {
    this.#crashes = [...this.#crashes.filter((t) => nowMs - t < this.#windowMs), nowMs];
    const n = this.#crashes.length;
    if (n >= this.#maxCrashes) return { action: "give-up", crashesInWindow: n, windowMs: this.#windowMs };
    return {
      action: "restart",
      delayMs: Math.min(this.#baseDelayMs * 2 ** (n - 1), this.#maxDelayMs),
      crashesInWindow: n,
    };
  }
}
