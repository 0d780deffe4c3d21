import type { TakoError } from "@tako/errors";
import { fromConnectError } from "./error-mapping.js";

export interface FollowStreamOptions<T> {
  /** Stops following when aborted; the returned promise then resolves. */
  readonly signal: AbortSignal;
  /** Opens the stream; called again after it ends or fails. */
  readonly open: (signal: AbortSignal) => AsyncIterable<T>;
  readonly onMessage: (message: T) => void | Promise<void>;
  /** Called with each failure before the next attempt (e.g. to log it). */
  readonly onError?: (err: TakoError, attempt: number) => void;
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

/**
 * Follows a server-streaming watch for as long as `signal` is live: when the stream ends (the
 * daemon reloaded or restarted) it reopens it, backing off exponentially while opening keeps
 * failing and starting over once a message arrives. Watches begin with a snapshot, so a
 * reconnect never misses state.
 */
export async function followStream<T>(options: FollowStreamOptions<T>): Promise<void> {
  const minBackoffMs = options.minBackoffMs ?? 50;
  const maxBackoffMs = options.maxBackoffMs ?? 2_000;
  let attempt = 0;
  while (!options.signal.aborted) {
    try {
      for await (const message of options.open(options.signal)) {
        attempt = 0;
        await options.onMessage(message);
      }
    } catch (err) {
      if (options.signal.aborted) break;
      options.onError?.(fromConnectError(err), attempt);
    }
    if (options.signal.aborted) break;
    const delay = Math.min(minBackoffMs * 2 ** attempt, maxBackoffMs);
    attempt++;
    await sleepUnlessAborted(delay, options.signal);
  }
}

/** Waits `ms`, or less when `signal` aborts; leaves no listener behind either way. */
function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
