/**
 * Counts requests in flight per client IP and refuses past the cap (429). The cap of each edge
 * process is its share of the configured total, so the processes of an edge together never let
 * one IP exceed it.
 */
export class ClientLimiter {
  readonly #cap: number;
  readonly #inflight = new Map<string, number>();

  constructor(cap: number) {
    this.#cap = cap;
  }

  acquire(ip: string): boolean {
    const n = this.#inflight.get(ip) ?? 0;
    if (n >= this.#cap) return false;
    this.#inflight.set(ip, n + 1);
    return true;
  }

  release(ip: string): void {
    const n = this.#inflight.get(ip) ?? 0;
    if (n <= 1) this.#inflight.delete(ip);
    else this.#inflight.set(ip, n - 1);
  }
}
