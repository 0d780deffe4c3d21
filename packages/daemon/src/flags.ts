import { isAbsolute } from "node:path";
import { parseArgs } from "node:util";
import { TakoError } from "@tako/errors";

// Daemon configuration comes from command-line flags only, parsed once at start into a frozen,
// fully defaulted object. Unknown flags and bad values are errors naming the flag, the problem
// and a valid example.

export type FlagSpec =
  | {
      readonly type: "string";
      readonly default: string;
      readonly description: string;
      readonly absolutePath?: boolean;
    }
  | {
      readonly type: "integer";
      readonly default: number;
      readonly description: string;
      readonly min?: number;
      readonly max?: number;
    }
  | { readonly type: "boolean"; readonly default: boolean; readonly description: string };

export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

export type FlagValues<S extends FlagSpecs> = {
  readonly [K in keyof S]: S[K] extends { type: "string" }
    ? string
    : S[K] extends { type: "boolean" }
      ? boolean
      : number;
};

/** Flags every daemon takes. */
export const COMMON_FLAGS = {
  root: {
    type: "string",
    default: "/",
    absolutePath: true,
    description: "root directory every path hangs off ('/' in production)",
  },
} as const satisfies FlagSpecs;

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function usage(specs: FlagSpecs): string {
  return Object.entries(specs)
    .map(
      ([key, spec]) =>
        `--${kebab(key)}${spec.type === "boolean" ? "" : ` <${spec.type === "integer" ? "n" : "value"}>`}`,
    )
    .join(", ");
}

function invalid(daemon: string, message: string, specs: FlagSpecs): TakoError {
  return new TakoError("CONFIG_INVALID", `${daemon}: ${message}. Valid flags: ${usage(specs)}`);
}

/** Configuration of a daemon with extra flags S: the common flags plus its own. */
export type DaemonConfig<S extends FlagSpecs> = FlagValues<typeof COMMON_FLAGS> & FlagValues<S>;

export function parseFlags<S extends FlagSpecs>(
  daemon: string,
  argv: readonly string[],
  specs: S,
): FlagValues<S> {
  const options: Record<string, { type: "string" | "boolean" }> = {};
  for (const [key, spec] of Object.entries(specs)) {
    options[kebab(key)] = { type: spec.type === "boolean" ? "boolean" : "string" };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw invalid(daemon, (err as Error).message.replace(/\. To specify.*$/s, ""), specs);
  }
  const out: Record<string, string | number | boolean> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const raw = values[kebab(key)];
    switch (spec.type) {
      case "boolean":
        out[key] = typeof raw === "boolean" ? raw : spec.default;
        break;
      case "string": {
        const value = typeof raw === "string" ? raw : spec.default;
        if (spec.absolutePath && !isAbsolute(value)) {
          throw invalid(
            daemon,
            `--${kebab(key)} must be an absolute path, got "${value}" (example: --${kebab(key)} /srv/tako)`,
            specs,
          );
        }
        out[key] = value;
        break;
      }
      case "integer": {
        if (typeof raw !== "string") {
          out[key] = spec.default;
          break;
        }
        const n = Number(raw);
        const min = spec.min ?? Number.MIN_SAFE_INTEGER;
        const max = spec.max ?? Number.MAX_SAFE_INTEGER;
        if (!/^-?[0-9]+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
          throw invalid(
            daemon,
            `--${kebab(key)} must be an integer from ${min} to ${max}, got "${raw}" (example: --${kebab(key)} ${spec.default})`,
            specs,
          );
        }
        out[key] = n;
        break;
      }
    }
  }
  return Object.freeze(out) as FlagValues<S>;
}
