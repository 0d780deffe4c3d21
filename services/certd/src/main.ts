import { fileURLToPath } from "node:url";
import { runDaemon } from "@tako/daemon";
import { certd } from "./certd.js";

await runDaemon(certd, fileURLToPath(import.meta.url));
