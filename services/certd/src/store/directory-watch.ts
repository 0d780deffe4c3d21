import { type FSWatcher, watch } from "node:fs";

export interface DirectoryWatchOptions {
  readonly dir: string;
  /** Called once per burst of changes (debounced); its failures go to onError. */
  readonly onChange: () => Promise<void>;
  readonly onError: (err: unknown) => void;
  readonly debounceMs?: number;
}

/**
 * Calls `onChange` after entries of `dir` change, so several processes sharing the directory (the
 * generations of a daemon during a reload) see each other's writes. inotify reports renames and
 * new entries in the directory itself; callers still rescan on their own schedule as a fallback.
 * Returns a function that stops watching and resolves once no callback is running.
 */
export function watchDirectory(options: DirectoryWatchOptions): () => Promise<void> {
  const debounceMs = options.debounceMs ?? 30;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let closed = false;
  const fire = () => {
    timer = undefined;
    if (closed) return;
    running = running.then(() => (closed ? undefined : options.onChange())).catch(options.onError);
  };
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(options.dir, { persistent: false }, () => {
      if (!timer && !closed) timer = setTimeout(fire, debounceMs);
    });
    watcher.on("error", options.onError);
  } catch (err) {
    options.onError(err);
  }
  return async () => {
    closed = true;
    clearTimeout(timer);
    watcher?.close();
    await running;
  };
}
