import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";

/** The spares are replenished this long after one is taken, once the new instance is up. */
const REFILL_DELAY_MS = 250;

export interface FifoPair {
  readonly out: string;
  readonly err: string;
}

/**
 * Named pipes for app output. Node cannot make a FIFO itself and `mkfifo` costs a process spawn
 * (a few ms), so a couple of spare pairs are made ahead of time and renamed into place: a cold
 * start never waits for mkfifo.
 */
export class FifoPool {
  readonly dir: string;
  readonly #spareCount: number;
  readonly #spares: FifoPair[] = [];
  #refilling: Promise<void> | undefined;
  #closed = false;

  constructor(dir: string, spareCount = 2) {
    this.dir = dir;
    this.#spareCount = spareCount;
  }

  /** Creates the directory and removes FIFOs no live instance uses (left by a crash). */
  prepare(keep: ReadonlySet<string>): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(this.dir)) {
      const path = join(this.dir, name);
      if (!keep.has(path)) rmSync(path, { force: true });
    }
  }

  /** A FIFO pair named after the instance, for its stdout and stderr. */
  take(instanceId: string): FifoPair {
    const target = { out: join(this.dir, `${instanceId}.out`), err: join(this.dir, `${instanceId}.err`) };
    const spare = this.#spares.shift();
    if (spare) {
      renameSync(spare.out, target.out);
      renameSync(spare.err, target.err);
    } else {
      execFileSync("mkfifo", ["-m", "0600", target.out, target.err]);
    }
    // Refilled a little later: spawning mkfifo now would delay the app's own spawn.
    setTimeout(() => this.#refill(), REFILL_DELAY_MS).unref();
    return target;
  }

  static remove(pair: FifoPair): void {
    rmSync(pair.out, { force: true });
    rmSync(pair.err, { force: true });
  }

  /** Waits for a refill in progress (on stop) and removes the spares. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#refilling;
    for (const pair of this.#spares.splice(0)) FifoPool.remove(pair);
  }

  #refill(): void {
    if (this.#closed || this.#refilling || this.#spares.length >= this.#spareCount) return;
    const missing = this.#spareCount - this.#spares.length;
    const pairs = Array.from({ length: missing }, () => {
      const name = `spare-${randomBytes(6).toString("hex")}`;
      return { out: join(this.dir, `${name}.out`), err: join(this.dir, `${name}.err`) };
    });
    this.#refilling = new Promise<void>((resolve) => {
      execFile("mkfifo", ["-m", "0600", ...pairs.flatMap((p) => [p.out, p.err])], (err) => {
        this.#refilling = undefined;
        if (err) return resolve();
        if (this.#closed) for (const pair of pairs) FifoPool.remove(pair);
        else this.#spares.push(...pairs);
        resolve();
        this.#refill();
      });
    });
  }

  /** Starts filling the pool. */
  warm(): void {
    this.#refill();
  }
}
