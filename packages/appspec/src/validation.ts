import { TakoError } from "@tako/errors";

// Every management request is checked here before anything happens; a malformed one changes
// nothing. Rules follow the original Tako (tako-behaviour §2 "Identity", §1 "Routing").

const NAME = /^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const VERSION = /^[A-Za-z0-9._-]{1,128}$/;
const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const MAX_ROUTES = 100;
export const MAX_VARS = 500;
export const MAX_VALUE_BYTES = 64 * 1024;
/** Environment variables Tako sets itself; an app's vars may not override them. */
export const RESERVED_VARS = new Set([
  "ENV",
  "NODE_ENV",
  "HOST",
  "PORT",
  "TAKO_APP_NAME",
  "TAKO_INTERNAL_SOCKET",
  "TAKO_DATA_DIR",
  "TAKO_BUILD",
]);

function invalid(message: string, field: string, hint?: string): TakoError {
  return new TakoError("INVALID_ARGUMENT", message, { metadata: { field }, ...(hint ? { hint } : {}) });
}

export function checkName(kind: "app" | "env", value: string): string {
  if (!NAME.test(value)) {
    throw invalid(
      `${kind} name "${value}" is invalid: use 1-63 lowercase letters, digits and dashes, starting with a letter and not ending with a dash`,
      kind,
      `For example: ${kind === "app" ? "my-app" : "production"}.`,
    );
  }
  return value;
}

export function checkAppEnv(req: { app: string; env: string }): { app: string; env: string } {
  return { app: checkName("app", req.app), env: checkName("env", req.env) };
}

export function checkVersion(value: string): string {
  if (!VERSION.test(value) || value === "." || value === "..") {
    throw invalid(
      `release version "${value}" is invalid: use 1-128 characters of A-Z a-z 0-9 . _ -`,
      "version",
    );
  }
  return value;
}

/** A route's host part: exact ("example.com") or wildcard ("*.example.com", never the apex). */
export function routeHost(route: string): string {
  const slash = route.indexOf("/");
  return (slash === -1 ? route : route.slice(0, slash)).toLowerCase();
}

/** Checks a route pattern and returns it with the host lowercased (paths are case-sensitive). */
export function checkRoute(route: string): string {
  const trimmed = route.trim();
  const host = routeHost(trimmed);
  const path = trimmed.slice(host.length);
  const lower = `${host}${path}`;
  const labels = (host.startsWith("*.") ? host.slice(2) : host).split(".");
  const hostOk =
    labels.length >= 1 &&
    labels.every((l) => HOST_LABEL.test(l)) &&
    (!host.startsWith("*.") || labels.length >= 1);
  const pathOk =
    path === "" ||
    (/^\/[A-Za-z0-9._~!$&'()+,;=:@%/-]*\*?$/.test(path) && !path.includes("/../") && !path.endsWith("/.."));
  if (lower === "" || host.includes("*", 1) || !hostOk || !pathOk) {
    throw invalid(
      `route "${route}" is invalid: use a host ("example.com"), a wildcard host ("*.example.com") or either with a path ("example.com/app/*")`,
      "routes",
    );
  }
  return lower;
}

export function checkRoutes(routes: readonly string[]): string[] {
  if (routes.length > MAX_ROUTES)
    throw invalid(`at most ${MAX_ROUTES} routes per environment, got ${routes.length}`, "routes");
  const out = routes.map(checkRoute);
  const seen = new Set<string>();
  for (const r of out) {
    if (seen.has(r)) throw invalid(`route "${r}" is listed twice`, "routes");
    seen.add(r);
  }
  return out;
}

/** Checks a name → value map (vars or secrets): names, sizes, reserved names for vars. */
export function checkVariables(
  kind: "vars" | "secrets",
  values: Readonly<Record<string, string>>,
): Record<string, string> {
  const entries = Object.entries(values);
  if (entries.length > MAX_VARS) throw invalid(`at most ${MAX_VARS} ${kind}, got ${entries.length}`, kind);
  for (const [name, value] of entries) {
    if (!VAR_NAME.test(name))
      throw invalid(
        `${kind} name "${name}" is invalid: use letters, digits and _ , not starting with a digit`,
        kind,
      );
    if (kind === "vars" && RESERVED_VARS.has(name))
      throw invalid(`${name} is set by Tako and cannot be a var`, kind);
    if (Buffer.byteLength(value) > MAX_VALUE_BYTES)
      throw invalid(`${kind} ${name} is larger than ${MAX_VALUE_BYTES} bytes`, kind);
    if (value.includes("\0")) throw invalid(`${kind} ${name} contains a NUL byte`, kind);
  }
  return { ...values };
}
