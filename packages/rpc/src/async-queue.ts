/**
 * A queue that is also an async iterable: the sending side of a client- or bidi-streaming call.
 * `push` messages, `end()` to close the stream, `fail(err)` to abort it.
 */
export class AsyncQueue<T> implements AsyncIterable<T> {
  readonly #items: T[] = [];
  readonly #waiters: ((r: IteratorResult<T>) => void)[] = [];
  readonly #failers: ((err: unknown) => void)[] = [];
  #ended = false;
  #error: unknown;

  push(item: T): void {
    if (this.#ended) throw new Error("push after end");
    const waiter = this.#waiters.shift();
    this.#failers.shift();
    if (waiter) waiter({ value: item, done: false });
    else this.#items.push(item);
  }

  end(): void {
    this.#ended = true;
    for (const w of this.#waiters.splice(0)) w({ value: undefined, done: true });
    this.#failers.length = 0;
  }

  fail(err: unknown): void {
    this.#ended = true;
    this.#error = err;
    for (const f of this.#failers.splice(0)) f(err);
    this.#waiters.length = 0;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        const item = this.#items.shift();
        if (item !== undefined) return Promise.resolve({ value: item, done: false });
        if (this.#error !== undefined) return Promise.reject(this.#error);
        if (this.#ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.#waiters.push(resolve);
          this.#failers.push(reject);
        });
      },
      return: () => {
        this.end();
        return Promise.resolve({ value: undefined, done: true });
      },
      // Called by Connect when the call fails: stop producing, nothing more will be read.
      throw: (err?: unknown) => {
        this.fail(err ?? new Error("the stream was aborted"));
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
