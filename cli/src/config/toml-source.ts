import { TakoError } from "@tako/errors";
import { parse, TomlError } from "smol-toml";

/** One thing wrong with a config file: where, which key, what, and a valid example. */
export interface ConfigProblem {
  /** Dotted key path, e.g. "envs.production.route". */
  readonly key: string;
  readonly problem: string;
  /** A valid line (or table) to copy, e.g. `route = "app.example.com"`. */
  readonly example: string;
  /** Key path to locate when it differs from `key` (e.g. the table holding a missing key). */
  readonly at?: readonly string[];
}

/**
 * A TOML file's text with a map from key paths to line numbers, so validation errors can name
 * the line (smol-toml reports lines only for syntax errors).
 */
export class TomlSource {
  readonly file: string;
  readonly text: string;
  readonly #lines = new Map<string, number>();

  constructor(file: string, text: string) {
    this.file = file;
    this.text = text;
    this.#index();
  }

  /** Parses the document; a syntax error becomes CONFIG_INVALID naming the file, line and column. */
  parse(example: string): Record<string, unknown> {
    try {
      return parse(this.text) as Record<string, unknown>;
    } catch (err) {
      if (err instanceof TomlError) {
        const what = err.message.split("\n")[0]?.replace(/^Invalid TOML document: /, "") ?? "invalid TOML";
        throw new TakoError(
          "CONFIG_INVALID",
          `${this.file}:${err.line}:${err.column}: ${what} (this is not valid TOML)\n${err.codeblock}`,
          {
            cause: err,
            metadata: { file: this.file, line: String(err.line) },
            hint: `A valid example:\n${example}`,
          },
        );
      }
      throw err;
    }
  }

  /** Line of the key (or of the nearest enclosing table or key that is written out), 1-based. */
  lineOf(path: readonly string[]): number | undefined {
    for (let n = path.length; n > 0; n--) {
      const line = this.#lines.get(path.slice(0, n).join("\u0000"));
      if (line !== undefined) return line;
    }
    return undefined;
  }

  /** Throws one CONFIG_INVALID listing every problem with its line and a valid example. */
  fail(problems: readonly ConfigProblem[]): never {
    const located = problems.map((p) => {
      const line = this.lineOf(p.at ?? p.key.split("."));
      return { ...p, where: line ? `${this.file}:${line}` : this.file, line };
    });
    const first = located[0];
    if (!first) throw new Error("fail() needs at least one problem");
    const metadata = { file: this.file, key: first.key, ...(first.line ? { line: String(first.line) } : {}) };
    if (located.length === 1) {
      throw new TakoError("CONFIG_INVALID", `${first.where}: ${first.key}: ${first.problem}`, {
        metadata,
        hint: `A valid example: ${first.example}`,
      });
    }
    const lines = located.map(
      (p) => `  ${p.where}: ${p.key}: ${p.problem}\n      valid example: ${p.example}`,
    );
    throw new TakoError(
      "CONFIG_INVALID",
      `${this.file} has ${located.length} problems:\n${lines.join("\n")}`,
      {
        metadata,
        hint: "Fix each line listed above and run the command again.",
      },
    );
  }

  #index(): void {
    let table: string[] = [];
    let multiline: string | undefined;
    this.text.split("\n").forEach((raw, index) => {
      const line = raw.trim();
      if (multiline) {
        if (line.includes(multiline)) multiline = undefined;
        return;
      }
      if (!line || line.startsWith("#")) return;
      const header = /^\[\[?\s*(.+?)\s*\]\]?\s*(#.*)?$/.exec(line);
      if (header?.[1]) {
        table = splitKey(header[1]);
        this.#record(table, index + 1);
        return;
      }
      const assignment =
        /^((?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*'))*)\s*=(.*)$/.exec(
          line,
        );
      if (!assignment?.[1]) return;
      this.#record([...table, ...splitKey(assignment[1])], index + 1);
      const value = assignment[2] ?? "";
      for (const quote of ['"""', "'''"]) {
        const at = value.indexOf(quote);
        if (at !== -1 && value.indexOf(quote, at + 3) === -1) multiline = quote;
      }
    });
  }

  #record(path: readonly string[], line: number): void {
    const key = path.join("\u0000");
    if (!this.#lines.has(key)) this.#lines.set(key, line);
  }
}

/** Splits a dotted TOML key into its parts, unquoting quoted parts. */
export function splitKey(key: string): string[] {
  const parts: string[] = [];
  const re = /\s*(?:([A-Za-z0-9_-]+)|"((?:[^"\\]|\\.)*)"|'([^']*)')\s*(?:\.|$)/gy;
  for (let m = re.exec(key); m && m[0] !== ""; m = re.exec(key)) {
    parts.push(m[1] ?? (m[2] !== undefined ? JSON.parse(`"${m[2]}"`) : (m[3] ?? "")));
  }
  return parts;
}

/** How a key is written in TOML: bare when it can be, quoted otherwise. */
export function tomlKey(key: string): string {
  return /^[A-Za-z0-9_-]+$/.test(key) ? key : JSON.stringify(key);
}
