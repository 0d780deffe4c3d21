import { createRequire } from "node:module";

/** Version of this Tako build (the daemon package's own version). */
export const TAKO_VERSION: string = (
  createRequire(import.meta.url)("../../package.json") as { version: string }
).version;
