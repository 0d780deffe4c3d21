import { TakoError } from "@tako/errors";

/** Changes a subscriber may fall behind by before its stream is ended (it reconnects to a snapshot). */
const DEFAULT_MAX_QUEUED = 1_000;

interface Subscriber<T> {
  readonly queue: T[];
  wake: (() => void) | undefined;
  overflowed: boolean;
}

/**
 * Fans changes out to every open watch. A subscriber that stops reading does not hold memory
 * without bound: past `maxQueued` pending changes its stream fails with UNAVAILABLE, and the
 * client's followStream reconnects and starts again from a snapshot.
 */
export class ChangeFeed<T> {
  readonly #subscribers = new Set<Subscriber<T>>();
  readonly #maxQueued: number;

  constructor(options: { readonly maxQueued?: number } = {}) {
    this.#maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED;
  }

  get size(): number {
    return this.#subscribers.size;
  }

  publish(change: T): void {
    for (const sub of this.#subscribers) {
      if (sub.queue.length >= this.#maxQueued) sub.overflowed = true;
      else sub.queue.push(change);
      sub.wake?.();
    }
  }

  /**
   * Starts buffering changes at once (subscribe before reading the snapshot, so nothing between
   * the two is lost) and yields them until `signal` aborts.
   */
  subscribe(signal: AbortSignal): AsyncGenerator<T, void, undefined> {
    const sub: Subscriber<T> = { queue: [], wake: undefined, overflowed: false };
    this.#subscribers.add(sub);
    const onAbort = () => sub.wake?.();
    signal.addEventListener("abort", onAbort, { once: true });
    const subscribers = this.#subscribers;
    return (async function* () {
      try {
        for (;;) {
          if (signal.aborted) return;
          if (sub.overflowed) {
            throw new TakoError(
              "UNAVAILABLE",
              "the watch fell too far behind; reconnect for a fresh snapshot",
            );
          }
          const next = sub.queue.shift();
          if (next !== undefined) {
            yield next;
            continue;
          }
          await new Promise<void>((resolve) => {
            sub.wake = resolve;
          });
          sub.wake = undefined;
        }
      } finally {
        signal.removeEventListener("abort", onAbort);
        subscribers.delete(sub);
      }
    })();
  }
}
