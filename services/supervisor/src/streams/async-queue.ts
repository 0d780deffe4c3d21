/**
 * A queue read as an async iterable: producers push, one consumer iterates; iteration ends when
 * the queue is closed or the signal aborts. `push` never blocks; past `maxItems` the oldest item
 * is dropped (a consumer that cannot keep up loses history rather than stalling the supervisor).
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  readonly #maxItems: number;
  #wake: (() => void) | undefined;
  #closed = false;
  #dropped = 0;

  constructor(signal: AbortSignal, maxItems = 10_000) {
    this.#maxItems = maxItems;
    if (signal.aborted) this.#closed = true;
    else signal.addEventListener("abort", () => this.close(), { once: true });
  }

  /** Items dropped because the consumer fell behind. */
  get dropped(): number {
    return this.#dropped;
  }

  push(item: T): void {
    if (this.#closed) return;
    this.#items.push(item);
    if (this.#items.length > this.#maxItems) {
      this.#items.shift();
      this.#dropped++;
    }
    this.#wake?.();
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for (;;) {
      while (this.#items.length > 0) yield this.#items.shift() as T;
      if (this.#closed) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}
