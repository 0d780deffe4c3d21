import { compareSpecificity, pathMatches, type RoutePattern } from "./route-pattern.js";

/** One pattern of the table, pointing at the deployment that serves it. */
export interface Route<T> {
  readonly pattern: RoutePattern;
  /** What the route leads to (the deployment's live state). */
  readonly target: T;
}

/**
 * The compiled routing table: exact hosts in one map, wildcard suffixes in another, each host's
 * routes sorted most specific first (a stable sort, so the first registered wins a tie). A lookup
 * is one or a few map reads and a short scan; no regular expression, no allocation but the
 * suffixes of a wildcard search.
 */
export class RouteTable<T> {
  readonly #exact = new Map<string, Route<T>[]>();
  readonly #wildcard = new Map<string, Route<T>[]>();
  readonly #all: readonly Route<T>[];

  /** `routes` in registration order. */
  constructor(routes: readonly Route<T>[]) {
    const sorted = [...routes].sort((a, b) => compareSpecificity(a.pattern, b.pattern));
    this.#all = sorted;
    for (const route of sorted) {
      const { host } = route.pattern;
      const map = host.kind === "exact" ? this.#exact : this.#wildcard;
      const key = host.kind === "exact" ? host.host : host.suffix;
      const list = map.get(key);
      if (list) list.push(route);
      else map.set(key, [route]);
    }
  }

  /** Every route, most specific first. */
  get routes(): readonly Route<T>[] {
    return this.#all;
  }

  /**
   * The most specific route for a request. `host` must be lowercase without port or trailing
   * dot; `path` is the request path without the query.
   */
  match(host: string, path: string): Route<T> | undefined {
    const exact = this.#exact.get(host);
    if (exact) {
      for (const route of exact) if (pathMatches(route.pattern.path, path)) return route;
    }
    if (this.#wildcard.size === 0) return undefined;
    // Longest suffix first: ".b.example.com" before ".example.com". The host itself never matches
    // (a wildcard needs at least one more label), so the search starts after its first label.
    for (let dot = host.indexOf("."); dot !== -1; dot = host.indexOf(".", dot + 1)) {
      if (dot === 0) continue;
      const list = this.#wildcard.get(host.slice(dot));
      if (!list) continue;
      for (const route of list) if (pathMatches(route.pattern.path, path)) return route;
    }
    return undefined;
  }
}
