import { checkRoute } from "@tako/appspec";

// Route patterns of tako.toml: an exact host ("app.example.com"), a wildcard host
// ("*.example.com", one or more labels), optionally with a path ("example.com/api" exact,
// "example.com/api/*" prefix). The edge matches the most specific; inside one file, the same
// pattern twice is a conflict.

export interface Route {
  /** The pattern as normalised (lower-case host). */
  readonly pattern: string;
  /** Host without the "*." of a wildcard. */
  readonly host: string;
  readonly wildcard: boolean;
  /** Path ("" for none), without the trailing "/*" of a prefix. */
  readonly path: string;
  readonly prefix: boolean;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const PATH_SEGMENT = /^[A-Za-z0-9._~%!$&'()+,;=:@-]+$/;

/** Parses one route pattern, or returns what is wrong with it. */
export function parseRoute(input: string): Route | { readonly problem: string } {
  const text = input.trim();
  if (text === "") return { problem: "a route cannot be empty" };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    return {
      problem: `"${input}" has a scheme; routes are host names, HTTPS is always on: drop "${text.split("://")[0]}://"`,
    };
  }
  const slash = text.indexOf("/");
  const hostPart = (slash === -1 ? text : text.slice(0, slash)).toLowerCase();
  const pathPart = slash === -1 ? "" : text.slice(slash);
  if (hostPart.includes(":"))
    return { problem: `"${input}" has a port; the edge serves routes on its own HTTPS port` };
  const wildcard = hostPart.startsWith("*.");
  const host = wildcard ? hostPart.slice(2) : hostPart;
  if (host.length > 253) return { problem: `"${input}": the host name is longer than 253 characters` };
  const labels = host.split(".");
  if (host.includes("*")) {
    return {
      problem: `"${input}": a wildcard is only allowed as the whole first label, as in "*.example.com"`,
    };
  }
  const bad = labels.find((l) => !LABEL.test(l));
  if (bad !== undefined) {
    return {
      problem: `"${input}": "${bad}" is not a valid host name label (letters, digits and "-", at most 63, not starting or ending with "-")`,
    };
  }
  if (wildcard && labels.length < 2) {
    return { problem: `"${input}": a wildcard needs a domain of at least two labels, as in "*.example.com"` };
  }
  let path = pathPart;
  let prefix = false;
  if (path.endsWith("/*")) {
    prefix = true;
    path = path.slice(0, -2);
  }
  if (pathPart !== "") {
    if (pathPart === "/")
      return { problem: `"${input}": drop the trailing "/" (a route without a path serves every path)` };
    const segments = path.split("/").slice(1);
    if (path !== "" && segments.some((s) => s === "" || s === "." || s === ".." || !PATH_SEGMENT.test(s))) {
      return {
        problem: `"${input}": the path must be "/"-separated segments of URL characters, optionally ending in "/*"`,
      };
    }
    if (path === "" && prefix) prefix = false; // "example.com/*" is the same as "example.com"
  }
  const pattern = `${wildcard ? "*." : ""}${host}${path}${prefix ? "/*" : ""}`;
  try {
    checkRoute(pattern); // what the hosts accept (packages/appspec); stricter checks are above
  } catch (err) {
    return { problem: `"${input}": ${err instanceof Error ? err.message : String(err)}` };
  }
  return { pattern, host, wildcard, path, prefix };
}

export function isRoute(value: Route | { readonly problem: string }): value is Route {
  return "pattern" in value;
}
