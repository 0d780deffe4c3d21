/** Fan-out of change messages to every open watch: each gets a snapshot first, then changes. */
export class ChangeStream<T> {
  readonly #subscribers = new Set<(m: T | undefined) => void>();

  push(message: T): void {
    for (const s of this.#subscribers) s(message);
  }

  /** Ends every open watch. */
  end(): void {
    for (const s of this.#subscribers) s(undefined);
  }

  async *follow(snapshot: () => T, signal: AbortSignal): AsyncGenerator<T> {
    const queue: (T | undefined)[] = [];
    let wake: (() => void) | undefined;
    const subscriber = (m: T | undefined) => {
      queue.push(m);
      wake?.();
    };
    this.#subscribers.add(subscriber);
    const onAbort = () => subscriber(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      yield snapshot();
      for (;;) {
        while (queue.length === 0) await new Promise<void>((r) => (wake = r));
        const next = queue.shift();
        if (next === undefined) return;
        yield next;
      }
    } finally {
      this.#subscribers.delete(subscriber);
      signal.removeEventListener("abort", onAbort);
    }
  }
}
