import type { RequestListener } from "node:http";
import type { FetchHandler } from "../types.js";

/** An entry module's export, turned into what the server runs. */
export interface ResolvedApp {
  readonly kind: "fetch" | "node";
  readonly listener: RequestListener;
  readonly ready?: () => unknown;
}

export class AppExportError extends Error {
  override readonly name = "AppExportError";
}

const EXPECTED =
  "the entry module must default-export a fetch handler `(request) => Response`, " +
  "an object `{ fetch, ready? }`, or a Node request listener `(req, res) => void` (Express, Fastify…)";

/**
 * Decides how to serve an entry module. A function taking two or more parameters is a Node
 * request listener (`(req, res)`, Express's `(req, res, next)`); one taking fewer is a fetch
 * handler. An object with a `fetch` method is a fetch app (its optional `ready` is awaited
 * before the instance reports readiness). CommonJS modules arrive as `default`.
 */
export async function resolveApp(mod: Record<string, unknown>): Promise<ResolvedApp> {
  const exported = mod.default ?? (typeof mod.fetch === "function" ? { fetch: mod.fetch } : undefined);
  if (typeof exported === "function") {
    if (exported.length >= 2) return { kind: "node", listener: exported as RequestListener };
    return fetchApp(exported as FetchHandler, undefined);
  }
  if (typeof exported === "object" && exported !== null) {
    const app = exported as { fetch?: unknown; ready?: unknown };
    if (typeof app.fetch === "function") {
      const ready = typeof app.ready === "function" ? (app.ready as () => unknown).bind(app) : undefined;
      return fetchApp((app.fetch as FetchHandler).bind(app), ready);
    }
  }
  throw new AppExportError(EXPECTED);
}

async function fetchApp(handler: FetchHandler, ready: (() => unknown) | undefined): Promise<ResolvedApp> {
  const { fetchListener } = await import("./fetch-adapter.js");
  return { kind: "fetch", listener: fetchListener(handler), ...(ready ? { ready } : {}) };
}
