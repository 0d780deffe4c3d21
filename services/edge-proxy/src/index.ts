export { EDGE_FLAGS, type EdgeConfig } from "./config.js";
export { edgeProxy } from "./edge-proxy.js";
export { compareSpecificity, parseRoutePattern, type RoutePattern } from "./routing/route-pattern.js";
export { type Route, RouteTable } from "./routing/route-table.js";
