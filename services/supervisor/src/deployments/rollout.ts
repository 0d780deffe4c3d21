import { TakoError } from "@tako/errors";
import type { Instance } from "../instances/instance.js";
import type { PreparedRelease } from "../instances/instance-launcher.js";

/** What a rollout needs from its deployment. */
export interface RolloutHost {
  /** Instances to replace, most idle first. */
  liveInstances(): Instance[];
  /** Instances in traffic. */
  healthy(): Instance[];
  /**
   * Starts an instance of the release; resolves once it is healthy, and in traffic unless on
   * `probation` (then it joins traffic at `admit`).
   */
  startInstance(
    prepared: PreparedRelease,
    generation: number,
    options: { probation: boolean },
  ): Promise<Instance>;
  admit(instance: Instance): void;
  /** Takes an instance out of traffic and stops it gracefully. */
  drainInstance(instance: Instance): Promise<void>;
  killInstance(instance: Instance): Promise<void>;
}

export interface RolloutResult {
  readonly newInstances: number;
  readonly oldInstances: number;
}

/** Resolves after `ms` unless one of `watched` leaves the healthy phase first (then rejects). */
function stayHealthy(watched: readonly Instance[], ms: number, version: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const bad = watched.find((i) => i.phase.kind !== "healthy");
      if (!bad) return false;
      const phase = bad.phase;
      const why = phase.kind === "unhealthy" ? `failed a health probe (${phase.reason})` : "exited";
      clearInterval(poll);
      clearTimeout(timer);
      reject(
        new TakoError(
          "ROLLOUT_FAILED",
          `new instance ${bad.id} of ${version} ${why} after it became healthy`,
        ),
      );
      return true;
    };
    // Phase changes are pushed by the probe loop; checking every 50 ms catches them without
    // subscribing to each instance.
    const poll = setInterval(check, 50);
    const timer = setTimeout(() => {
      clearInterval(poll);
      if (!check()) resolve();
    }, ms);
    check();
  });
}

/**
 * A rolling update: start one new instance, wait until it is healthy, make sure it stays healthy
 * for the stability window, put it in traffic, drain one old instance; repeat until `target` new
 * instances serve, then drain any old ones left. While any instance serves, a new one gets no
 * request before its stability window has passed (where none does, e.g. on the first deploy or
 * at scale 0, it takes traffic at once: nothing else could answer). On any failure the new instances
 * are killed and the error is thrown; the old ones that were not drained yet keep serving and the
 * caller restores the count.
 */
export async function rollOut(
  host: RolloutHost,
  prepared: PreparedRelease,
  generation: number,
  options: { target: number; stabilityMs: number; progress: (detail: string) => void },
): Promise<RolloutResult> {
  const { version } = prepared.release;
  const old = host.liveInstances();
  const fresh: Instance[] = [];
  let stopped = 0;
  try {
    for (let n = 1; n <= options.target; n++) {
      options.progress(`starting instance ${n}/${options.target} of ${version}`);
      const serving = host.healthy().length > 0;
      const instance = await host.startInstance(prepared, generation, { probation: serving });
      fresh.push(instance);
      options.progress(`instance ${n}/${options.target} of ${version} is healthy`);
      if (options.stabilityMs > 0) await stayHealthy(fresh, options.stabilityMs, version);
      host.admit(instance);
      const victim = old.shift();
      if (victim) {
        await host.drainInstance(victim);
        stopped++;
        options.progress(`stopped old instance ${victim.id} (${victim.version})`);
      }
    }
    for (const victim of old) {
      await host.drainInstance(victim);
      stopped++;
      options.progress(`stopped old instance ${victim.id} (${victim.version})`);
    }
    await stayHealthy(fresh, 0, version);
    return { newInstances: fresh.length, oldInstances: stopped };
  } catch (err) {
    await Promise.all(fresh.map((i) => host.killInstance(i)));
    throw err;
  }
}
