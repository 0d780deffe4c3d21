import { fileURLToPath } from "node:url";
import { runDaemon } from "@tako/daemon";
import { edgeProxy } from "./edge-proxy.js";

await runDaemon(edgeProxy, fileURLToPath(import.meta.url));
