import type { Logger } from "@tako/daemon";

/** Synchronous change listeners of a store; one failing listener never stops the others. */
export class Listeners<T> {
  readonly #set = new Set<(change: T) => void>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Subscribes; returns the unsubscribe function. */
  add(listener: (change: T) => void): () => void {
    this.#set.add(listener);
    return () => this.#set.delete(listener);
  }

  emit(change: T): void {
    for (const listener of this.#set) {
      try {
        listener(change);
      } catch (err) {
        this.#log.error("change listener failed", { error: err });
      }
    }
  }
}
