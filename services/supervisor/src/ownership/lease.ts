import { setTimeout as sleep } from "node:timers/promises";
import { isSameLiveProcess, readProcStat } from "../process/proc-stat.js";
import type { LeaseHolder, StateStore } from "../store/state-store.js";

/** How often a waiting generation looks whether its predecessor let go. */
const POLL_MS = 25;

/** This process as a lease holder (PID plus start time, so a reused PID never matches). */
export function selfHolder(): LeaseHolder {
  return { pid: process.pid, startTicks: readProcStat(process.pid)?.startTicks ?? "" };
}

const alive = (holder: LeaseHolder) => isSameLiveProcess(holder.pid, holder.startTicks);

/**
 * The lease says which supervisor generation owns the app processes. During a reload the new
 * generation serves its socket at once but waits here until the old one has handed over
 * (released the lease) — or died, in which case it takes over at once.
 */
export class Lease {
  readonly #store: StateStore;
  readonly me: LeaseHolder;

  constructor(store: StateStore) {
    this.#store = store;
    this.me = selfHolder();
  }

  tryAcquire(): boolean {
    return this.#store.tryAcquireLease(this.me, alive);
  }

  /** Polls until acquired (true) or the signal aborts (false). */
  async acquire(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      if (this.tryAcquire()) return true;
      await sleep(POLL_MS, undefined, { signal }).catch(() => undefined);
    }
    return false;
  }

  release(): void {
    this.#store.releaseLease(this.me);
  }

  /** Says that this holder has adopted the processes (its output readers are open). */
  markAdopted(): void {
    this.#store.markLeaseAdopted(this.me);
  }

  /**
   * After releasing: waits until a successor holds the lease and has adopted the processes, up to
   * `timeoutMs`, so that app output always has a reader.
   */
  async waitForSuccessor(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const holder = this.#store.leaseHolder();
      if (holder?.adopted && holder.pid !== this.me.pid && alive(holder)) return true;
      await sleep(POLL_MS);
    }
    return false;
  }
}
