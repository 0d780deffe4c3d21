import { TakoError } from "@tako/errors";

// Route patterns as in the original Tako (tako-behaviour.md §1 "Routing"): `host[/path]`, split at
// the first "/". The host is exact ("example.com") or a wildcard ("*.example.com", at least one
// label more than the suffix, never the apex), case-insensitive. The path is exact ("/p", a
// trailing "/" is ignored, "/" stays), a segment prefix ("/p/*": "/p" and "/p/…") or a raw
// prefix ("/p*"). A route without a path matches every path of its host.

export type HostMatch =
  | { readonly kind: "exact"; readonly host: string }
  /** `suffix` keeps its leading dot: "*.example.com" → ".example.com". */
  | { readonly kind: "wildcard"; readonly suffix: string };

export type PathMatch =
  | { readonly kind: "any" }
  | { readonly kind: "exact"; readonly path: string }
  /** "/p/*": `path` is "/p" (or "" for "/*", which is the same as any). */
  | { readonly kind: "segment"; readonly path: string }
  /** "/p*": `path` is "/p". */
  | { readonly kind: "prefix"; readonly path: string };

export interface RoutePattern {
  /** Normalized text: lowercase host, normalized path. Two patterns conflict when equal. */
  readonly text: string;
  readonly host: HostMatch;
  readonly path: PathMatch;
}

const MAX_PATTERN_LENGTH = 2048;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// Characters a route path may hold: RFC 3986 pchar plus "/" (percent-encoded octets included).
const PATH_CHARS = /^[A-Za-z0-9\-._~!$&'()+,;=:@/%]*$/;

function invalid(pattern: string, problem: string): TakoError {
  return new TakoError("ROUTE_INVALID", `route "${pattern}" is invalid: ${problem}`, {
    metadata: { route: pattern },
  });
}

function parseHost(pattern: string, raw: string): HostMatch {
  const host = raw.toLowerCase().replace(/\.$/, "");
  if (host === "") throw invalid(pattern, "a route needs a host (path-only routes are not allowed)");
  if (host.length > 253) throw invalid(pattern, "the host is longer than 253 characters");
  if (host.includes(":")) throw invalid(pattern, "a route must not name a port");
  const labels = host.split(".");
  const wildcard = labels[0] === "*";
  const rest = wildcard ? labels.slice(1) : labels;
  if (wildcard && rest.length < 2) {
    throw invalid(pattern, 'a wildcard needs a domain with at least two labels, e.g. "*.example.com"');
  }
  for (const label of rest) {
    if (!LABEL.test(label)) {
      throw invalid(
        pattern,
        label.includes("*")
          ? 'only the first label may be a wildcard, as in "*.example.com"'
          : `"${label}" is not a valid host label`,
      );
    }
  }
  return wildcard ? { kind: "wildcard", suffix: `.${rest.join(".")}` } : { kind: "exact", host };
}

function parsePath(pattern: string, raw: string): PathMatch {
  if (raw === "" || raw === "/" || raw === "/*")
    return raw === "/" ? { kind: "exact", path: "/" } : { kind: "any" };
  if (!PATH_CHARS.test(raw.replace(/\*$/, ""))) {
    throw invalid(pattern, "the path holds characters a URL path cannot (encode them with %XX)");
  }
  if (raw.indexOf("*") !== -1 && raw.indexOf("*") !== raw.length - 1) {
    throw invalid(pattern, '"*" may only end the path, as in "/app/*" or "/app*"');
  }
  if (raw.includes("//")) throw invalid(pattern, 'the path must not contain "//"');
  if (raw.endsWith("/*")) return { kind: "segment", path: raw.slice(0, -2) };
  if (raw.endsWith("*")) return { kind: "prefix", path: raw.slice(0, -1) };
  return { kind: "exact", path: raw.length > 1 && raw.endsWith("/") ? raw.slice(0, -1) : raw };
}

/** Parses and normalizes one route pattern; throws ROUTE_INVALID with the problem. */
export function parseRoutePattern(pattern: string): RoutePattern {
  const trimmed = pattern.trim();
  if (trimmed.length > MAX_PATTERN_LENGTH) throw invalid(pattern.slice(0, 64), "the pattern is too long");
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    throw invalid(pattern, 'leave the scheme out: "example.com", not "https://example.com"');
  }
  const slash = trimmed.indexOf("/");
  const host = parseHost(pattern, slash === -1 ? trimmed : trimmed.slice(0, slash));
  const path = parsePath(pattern, slash === -1 ? "" : trimmed.slice(slash));
  const hostText = host.kind === "exact" ? host.host : `*${host.suffix}`;
  const pathText =
    path.kind === "any"
      ? ""
      : path.kind === "exact"
        ? path.path
        : path.kind === "segment"
          ? `${path.path}/*`
          : `${path.path}*`;
  return { text: `${hostText}${pathText}`, host, path };
}

/**
 * Orders two patterns, most specific first: an exact host beats a wildcard, a longer wildcard
 * suffix beats a shorter one, then a longer path beats a shorter one, then an exact path beats a
 * prefix of the same length. 0 means equally specific (the first registered wins).
 */
export function compareSpecificity(a: RoutePattern, b: RoutePattern): number {
  const hostScore = (p: RoutePattern) => (p.host.kind === "exact" ? 1_000_000 : p.host.suffix.length);
  const pathLength = (p: RoutePattern) => (p.path.kind === "any" ? -1 : p.path.path.length);
  return (
    hostScore(b) - hostScore(a) ||
    pathLength(b) - pathLength(a) ||
    Number(b.path.kind === "exact") - Number(a.path.kind === "exact")
  );
}

/** Whether a request path (without query) matches the pattern's path part. */
export function pathMatches(match: PathMatch, path: string): boolean {
  switch (match.kind) {
    case "any":
      return true;
    case "exact":
      return (
        path === match.path ||
        (match.path !== "/" &&
          path.length === match.path.length + 1 &&
          path.endsWith("/") &&
          path.startsWith(match.path))
      );
    case "segment":
      return (
        path.startsWith(match.path) &&
        (path.length === match.path.length || path.charCodeAt(match.path.length) === 47) // "/"
      );
    case "prefix":
      return path.startsWith(match.path);
  }
}

/** The part of a request path after the route's prefix, for static files ("/app/x.js" → "/x.js"). */
export function stripRoutePrefix(match: PathMatch, path: string): string | undefined {
  if ((match.kind !== "segment" && match.kind !== "prefix") || match.path === "") return undefined;
  const rest = path.slice(match.path.length);
  return rest.startsWith("/") ? rest : `/${rest}`;
}
