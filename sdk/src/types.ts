import type { IncomingMessage, ServerResponse } from "node:http";

/** A fetch handler: the Web-standard way to write an app. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** A Node request listener: plain `http`, Express, Fastify's handler… */
export type NodeRequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** The object form of an entry module's default export. */
export interface FetchApp {
  fetch: FetchHandler;
  /** Awaited before the instance reports readiness (open a database, warm a cache…). */
  ready?: () => unknown;
}

/** What an entry module may default-export. */
export type AppExport = FetchHandler | FetchApp | NodeRequestListener;
