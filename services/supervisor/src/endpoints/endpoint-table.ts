import type { DeploymentKey } from "../names.js";

export interface EndpointView {
  readonly instanceId: string;
  readonly host: string;
  readonly port: number;
  readonly version: string;
}

/** The healthy endpoints of one {app}/{env}, complete. */
export interface AppEndpointsView {
  readonly app: string;
  readonly env: string;
  readonly endpoints: readonly EndpointView[];
  readonly desiredInstances: number;
  readonly releaseDir: string;
}

export type EndpointChange =
  | { readonly snapshot: true; readonly apps: readonly AppEndpointsView[] }
  | {
      readonly snapshot: false;
      readonly apps: readonly AppEndpointsView[];
      readonly removed: readonly DeploymentKey[];
    };

interface Watcher {
  readonly dirty: Set<DeploymentKey>;
  wake: (() => void) | undefined;
}

function sameView(a: AppEndpointsView, b: AppEndpointsView): boolean {
  return (
    a.desiredInstances === b.desiredInstances &&
    a.releaseDir === b.releaseDir &&
    a.endpoints.length === b.endpoints.length &&
    a.endpoints.every((e, i) => {
      const o = b.endpoints[i];
      return o !== undefined && e.instanceId === o.instanceId && e.port === o.port && e.version === o.version;
    })
  );
}

/**
 * The live routing table the edge follows: every deployment's healthy endpoints. Watchers get a
 * snapshot first, then only what changed; changes are coalesced per deployment, so a slow
 * watcher always receives the latest state and never an unbounded backlog.
 */
export class EndpointTable {
  readonly #apps = new Map<DeploymentKey, AppEndpointsView>();
  readonly #watchers = new Set<Watcher>();

  set(view: AppEndpointsView): void {
    const key: DeploymentKey = `${view.app}/${view.env}`;
    const old = this.#apps.get(key);
    if (old && sameView(old, view)) return;
    this.#apps.set(key, view);
    this.#touch(key);
  }

  remove(key: DeploymentKey): void {
    if (this.#apps.delete(key)) this.#touch(key);
  }

  get(key: DeploymentKey): AppEndpointsView | undefined {
    return this.#apps.get(key);
  }

  snapshot(): AppEndpointsView[] {
    return [...this.#apps.values()];
  }

  /** Snapshot, then changes, until the signal aborts. */
  async *watch(signal: AbortSignal): AsyncGenerator<EndpointChange, void, undefined> {
    const watcher: Watcher = { dirty: new Set(), wake: undefined };
    const onAbort = () => watcher.wake?.();
    signal.addEventListener("abort", onAbort, { once: true });
    this.#watchers.add(watcher);
    try {
      yield { snapshot: true, apps: this.snapshot() };
      while (!signal.aborted) {
        if (watcher.dirty.size === 0) {
          await new Promise<void>((resolve) => {
            watcher.wake = resolve;
          });
          watcher.wake = undefined;
          continue;
        }
        const keys = [...watcher.dirty];
        watcher.dirty.clear();
        const apps: AppEndpointsView[] = [];
        const removed: DeploymentKey[] = [];
        for (const key of keys) {
          const view = this.#apps.get(key);
          if (view) apps.push(view);
          else removed.push(key);
        }
        yield { snapshot: false, apps, removed };
      }
    } finally {
      this.#watchers.delete(watcher);
      signal.removeEventListener("abort", onAbort);
    }
  }

  #touch(key: DeploymentKey): void {
    for (const watcher of this.#watchers) {
      watcher.dirty.add(key);
      watcher.wake?.();
    }
  }
}
