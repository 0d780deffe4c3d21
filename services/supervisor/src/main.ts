import { fileURLToPath } from "node:url";
import { runDaemon } from "@tako/daemon";
import { supervisor } from "./supervisor.js";

await runDaemon(supervisor, fileURLToPath(import.meta.url));
