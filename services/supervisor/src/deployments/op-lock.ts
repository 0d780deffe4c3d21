/** Runs operations one at a time, in call order (a rollout, a scale, a replacement…). */
export class OpLock {
  #tail: Promise<unknown> = Promise.resolve();
  #held = 0;

  get held(): boolean {
    return this.#held > 0;
  }

  run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(async () => {
      this.#held++;
      try {
        return await operation();
      } finally {
        this.#held--;
      }
    });
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
