import { checkAppEnv, checkRoute, MAX_ROUTES } from "@tako/appspec";
import { TakoError } from "@tako/errors";
import type { StoredRoutes } from "../store/route-store.js";
import { type Deployment, deploymentKey } from "../upstream/deployment.js";
import type { DeploymentDirectory } from "../upstream/deployment-directory.js";
import { parseRoutePattern, type RoutePattern } from "./route-pattern.js";
import { type Route, RouteTable } from "./route-table.js";

export interface RouteRegistryDeps {
  readonly directory: DeploymentDirectory;
  /** Persists the whole table; SetRoutes/RemoveRoutes return only after it resolved. */
  readonly save: (deployments: readonly StoredRoutes[]) => Promise<void>;
  /** Called with every new table (the hot path reads the latest one). */
  readonly onChange: (table: RouteTable<Deployment>) => void;
}

interface Entry {
  readonly app: string;
  readonly env: string;
  readonly routes: readonly string[];
  readonly patterns: readonly RoutePattern[];
}

/**
 * The routes agentd pushes, per {app}/{env}. Validates patterns, refuses a pattern another
 * deployment already serves, writes the table to disk, then swaps the compiled table. Calls are
 * serialized so two concurrent pushes never interleave their writes.
 */
export class RouteRegistry {
  readonly #deps: RouteRegistryDeps;
  /** In registration order. */
  #entries: Entry[] = [];
  #table: RouteTable<Deployment> = new RouteTable([]);
  #queue: Promise<unknown> = Promise.resolve();

  constructor(deps: RouteRegistryDeps) {
    this.#deps = deps;
  }

  get table(): RouteTable<Deployment> {
    return this.#table;
  }

  /** Replaces everything with stored routes (at start, or when another process wrote the file). */
  load(stored: readonly StoredRoutes[]): void {
    const entries: Entry[] = [];
    for (const d of stored) {
      // Stored routes were validated when pushed; a pattern this build cannot parse is skipped
      // rather than taking every other route down.
      const patterns: RoutePattern[] = [];
      for (const r of d.routes) {
        try {
          patterns.push(parseRoutePattern(r));
        } catch {
          // skipped, see above
        }
      }
      entries.push({ app: d.app, env: d.env, routes: d.routes, patterns });
    }
    this.#entries = entries;
    this.#rebuild();
  }

  /** Same shape as stored, for comparing with the file. */
  snapshot(): StoredRoutes[] {
    return this.#entries.map(({ app, env, routes }) => ({ app, env, routes }));
  }

  setRoutes(app: string, env: string, routes: readonly string[]): Promise<void> {
    return this.#serialize(async () => {
      // The same rules the CLI and agentd apply (@tako/appspec), then the edge's own parse.
      checkAppEnv({ app, env });
      if (routes.length > MAX_ROUTES) {
        throw new TakoError(
          "ROUTE_INVALID",
          `${app}/${env} has ${routes.length} routes; at most ${MAX_ROUTES} are allowed`,
          { metadata: { app, env } },
        );
      }
      const patterns: RoutePattern[] = [];
      const texts: string[] = [];
      for (const raw of routes) {
        if (raw.trim() === "") continue; // empty patterns are ignored, as in the original
        checkRouteOrRefuse(raw);
        // Parsed from the pattern as sent: appspec's normalized form lowercases the path too,
        // and request paths are matched case-sensitively.
        const pattern = parseRoutePattern(raw);
        if (texts.includes(pattern.text)) continue;
        patterns.push(pattern);
        texts.push(pattern.text);
      }
      const key = deploymentKey(app, env);
      for (const other of this.#entries) {
        if (deploymentKey(other.app, other.env) === key) continue;
        const clash = other.patterns.find((p) => texts.includes(p.text));
        if (clash) {
          throw new TakoError(
            "ROUTE_CONFLICT",
            `route "${clash.text}" is already served by ${other.app}/${other.env}`,
            { metadata: { app, env, route: clash.text, owner: `${other.app}/${other.env}` } },
          );
        }
      }
      const entry: Entry = { app, env, routes: texts, patterns };
      const index = this.#entries.findIndex((e) => deploymentKey(e.app, e.env) === key);
      const next = [...this.#entries];
      if (patterns.length === 0) {
        if (index !== -1) next.splice(index, 1);
      } else if (index === -1) next.push(entry);
      else next[index] = entry; // keeps its place: registration order breaks ties
      await this.#commit(next);
    });
  }

  /** Drops every route of {app}/{env}; false when it had none. */
  removeRoutes(app: string, env: string): Promise<boolean> {
    return this.#serialize(async () => {
      checkAppEnv({ app, env });
      const key = deploymentKey(app, env);
      const next = this.#entries.filter((e) => deploymentKey(e.app, e.env) !== key);
      if (next.length === this.#entries.length) return false;
      await this.#commit(next);
      return true;
    });
  }

  async #commit(next: Entry[]): Promise<void> {
    await this.#deps.save(next.map(({ app, env, routes }) => ({ app, env, routes })));
    this.#entries = next;
    this.#rebuild();
  }

  #rebuild(): void {
    const routes: Route<Deployment>[] = [];
    for (const e of this.#entries) {
      const target = this.#deps.directory.get(e.app, e.env);
      for (const pattern of e.patterns) routes.push({ pattern, target });
    }
    this.#table = new RouteTable(routes);
    this.#deps.onChange(this.#table);
  }

  #serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/** appspec's route check, its INVALID_ARGUMENT reported as ROUTE_INVALID (the edge's reason). */
function checkRouteOrRefuse(route: string): void {
  try {
    checkRoute(route);
  } catch (err) {
    if (TakoError.is(err, "INVALID_ARGUMENT")) {
      throw new TakoError("ROUTE_INVALID", err.message, {
        metadata: { route: route.slice(0, 200) },
        cause: err,
      });
    }
    throw err;
  }
}
