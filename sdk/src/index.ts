// tako.sh: the SDK apps import. Only what is safe to import anywhere lives here; the server
// runtime (bootstrap, readiness, health endpoint) is in src/server and src/entrypoints.
export { tako } from "./tako.js";
export type { AppExport, FetchApp, FetchHandler, NodeRequestListener } from "./types.js";
