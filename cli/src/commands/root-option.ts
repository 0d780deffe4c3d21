import { resolve } from "node:path";

/** The --root option shared by the `tako server` commands. */
export const rootOption = {
  type: "string",
  default: "/",
  describe: "Root directory of the host: every path hangs off it ('/' for a real server)",
  coerce: (value: string) => resolve(value),
} as const;
