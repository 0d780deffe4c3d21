import { fileURLToPath } from "node:url";
import { runDaemon } from "@tako/daemon";
import { agentd } from "./agentd.js";

await runDaemon(agentd, fileURLToPath(import.meta.url));
