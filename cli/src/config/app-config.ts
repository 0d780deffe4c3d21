import { readFile } from "node:fs/promises";
import { basename, dirname, isAbsolute, resolve } from "node:path";
import { MAX_ROUTES } from "@tako/appspec";
import { TakoError } from "@tako/errors";
import { isValidName, nameProblem, suggestName, variableProblem } from "./names.js";
import { isRoute, parseRoute } from "./routes.js";
import { type ConfigProblem, TomlSource, tomlKey } from "./toml-source.js";

/** One `[envs.<env>]` of tako.toml, validated and defaulted. */
export interface EnvConfig {
  readonly name: string;
  /** Normalised route patterns. */
  readonly routes: readonly string[];
  /** Server names from the global config; the first one is the leader. */
  readonly servers: readonly string[];
  readonly idleTimeoutSeconds: number;
  /** The env's own release command ("" clears the top-level one); undefined inherits it. */
  readonly release: string | undefined;
}

/** tako.toml, parsed once into a frozen, fully defaulted object. */
export interface AppConfig {
  /** Absolute path of tako.toml; the app's directory is the one holding it. */
  readonly file: string;
  readonly appDir: string;
  readonly name: string;
  /** Entry module relative to the app directory, when set in tako.toml. */
  readonly main: string | undefined;
  readonly release: string | undefined;
  /** [vars], as strings. */
  readonly vars: Readonly<Record<string, string>>;
  /** [vars.<env>], as strings. */
  readonly envVars: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly envs: Readonly<Record<string, EnvConfig>>;
  readonly build: { readonly command: string | undefined; readonly assets: readonly string[] };
}

export const DEFAULT_IDLE_TIMEOUT_SECONDS = 300;
const MAX_IDLE_TIMEOUT_SECONDS = 7 * 24 * 3600;

/** A complete valid file, shown when the TOML itself does not parse. */
export const EXAMPLE_TAKO_TOML = `  name = "my-app"
  main = "server.js"

  [envs.production]
  route = "my-app.example.com"
  servers = ["web-1"]`;

const TOP_KEYS = ["name", "main", "release", "vars", "envs", "build"];
const ENV_KEYS = ["route", "routes", "servers", "idle_timeout", "release"];
const BUILD_KEYS = ["command", "assets"];

const EXAMPLES = {
  name: 'name = "my-app"',
  main: 'main = "server.js"',
  release: 'release = "node migrate.js"',
  vars: '[vars]\nLOG_LEVEL = "info"',
  route: 'route = "my-app.example.com"',
  routes: 'routes = ["example.com", "*.example.com", "example.com/api/*"]',
  servers: 'servers = ["web-1", "web-2"]',
  idle_timeout: "idle_timeout = 300",
  env: '[envs.production]\nroute = "my-app.example.com"\nservers = ["web-1"]',
  build: '[build]\ncommand = "npm run build"\nassets = ["dist/client"]',
  command: 'command = "npm run build"',
  assets: 'assets = ["dist/client"]',
} as const;

/** Where tako.toml is: -c (".toml" appended when missing) or ./tako.toml. */
export function configPath(flag: string | undefined, cwd = process.cwd()): string {
  if (!flag) return resolve(cwd, "tako.toml");
  return resolve(cwd, flag.endsWith(".toml") ? flag : `${flag}.toml`);
}

/** Reads and validates tako.toml; every problem is reported with its line and a valid example. */
export async function loadAppConfig(file: string): Promise<AppConfig> {
  const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") {
      throw new TakoError("APP_CONFIG_NOT_FOUND", `no tako.toml at ${file}`, { metadata: { file } });
    }
    throw new TakoError("CONFIG_INVALID", `cannot read ${file}: ${err.message}`, { cause: err });
  });
  return parseAppConfig(file, text);
}

/** Validates the text of tako.toml (see loadAppConfig). */
export function parseAppConfig(file: string, text: string): AppConfig {
  const source = new TomlSource(file, text);
  const doc = source.parse(EXAMPLE_TAKO_TOML);
  const problems: ConfigProblem[] = [];
  const add = (key: string, problem: string, example: string, at?: readonly string[]) =>
    problems.push({ key, problem, example, ...(at ? { at } : {}) });

  unknownKeys(doc, TOP_KEYS, "", add);

  const appDir = dirname(file);
  let name = stringOr(doc.name, "name", EXAMPLES.name, add);
  if (name !== undefined) {
    const problem = nameProblem(name, "app name");
    if (problem) add("name", problem, EXAMPLES.name);
  } else if (doc.name === undefined) {
    const dir = basename(appDir);
    if (isValidName(dir)) name = dir;
    else {
      const suggestion = suggestName(dir) ?? "my-app";
      add(
        "name",
        `no name is set and the directory name "${dir}" is not a valid app name`,
        `name = "${suggestion}"`,
        [],
      );
    }
  }

  const main = stringOr(doc.main, "main", EXAMPLES.main, add);
  if (main !== undefined && (main === "" || isAbsolute(main) || main.split(/[\\/]/).includes(".."))) {
    add("main", `"${main}" must be a path inside the app directory`, EXAMPLES.main);
  }
  const release = stringOr(doc.release, "release", EXAMPLES.release, add);

  const envs: Record<string, EnvConfig> = {};
  const envTable = tableOr(doc.envs, "envs", EXAMPLES.env, add) ?? {};
  const routeOwners = new Map<string, string>();
  for (const [env, raw] of Object.entries(envTable)) {
    const key = `envs.${tomlKey(env)}`;
    const problem = nameProblem(env, "environment name");
    if (problem) add(key, problem, EXAMPLES.env);
    const table = tableOr(raw, key, EXAMPLES.env, add);
    if (!table) continue;
    unknownKeys(table, ENV_KEYS, key, add);
    const parsed = parseEnv(env, key, table, add, routeOwners);
    envs[env] = parsed;
  }

  const { vars, envVars } = parseVars(doc.vars, Object.keys(envs), add);

  const buildTable = tableOr(doc.build, "build", EXAMPLES.build, add) ?? {};
  unknownKeys(buildTable, BUILD_KEYS, "build", add);
  const command = stringOr(buildTable.command, "build.command", EXAMPLES.command, add);
  const assets = stringList(buildTable.assets, "build.assets", EXAMPLES.assets, add) ?? [];
  for (const asset of assets) {
    if (asset === "" || isAbsolute(asset) || asset.split(/[\\/]/).includes("..")) {
      add("build.assets", `"${asset}" must be a directory inside the app`, EXAMPLES.assets);
    }
  }

  if (problems.length > 0) source.fail(problems);
  return deepFreeze({
    file,
    appDir,
    name: name ?? "",
    main,
    release,
    vars,
    envVars,
    envs,
    build: { command: command === "" ? undefined : command, assets },
  });
}

type Add = (key: string, problem: string, example: string, at?: readonly string[]) => void;

function parseEnv(
  env: string,
  key: string,
  table: Record<string, unknown>,
  add: Add,
  routeOwners: Map<string, string>,
): EnvConfig {
  const routes: string[] = [];
  if (table.route !== undefined && table.routes !== undefined) {
    add(`${key}.routes`, "set either route or routes, not both", EXAMPLES.routes);
  }
  const single = stringOr(table.route, `${key}.route`, EXAMPLES.route, add);
  const many = stringList(table.routes, `${key}.routes`, EXAMPLES.routes, add);
  if (many?.length === 0) add(`${key}.routes`, "the list is empty", EXAMPLES.routes);
  const routeKey = single !== undefined ? `${key}.route` : `${key}.routes`;
  if ((many?.length ?? 0) > MAX_ROUTES)
    add(routeKey, `at most ${MAX_ROUTES} routes per environment`, EXAMPLES.routes);
  for (const input of single !== undefined ? [single] : (many ?? [])) {
    const route = parseRoute(input);
    if (!isRoute(route)) {
      add(routeKey, route.problem, single !== undefined ? EXAMPLES.route : EXAMPLES.routes);
      continue;
    }
    const owner = routeOwners.get(route.pattern);
    if (owner !== undefined) {
      add(
        routeKey,
        owner === env
          ? `the route "${route.pattern}" is listed twice`
          : `the route "${route.pattern}" is already used by [envs.${owner}]; two environments cannot serve the same route`,
        EXAMPLES.routes,
      );
      continue;
    }
    routeOwners.set(route.pattern, env);
    routes.push(route.pattern);
  }
  const servers = stringList(table.servers, `${key}.servers`, EXAMPLES.servers, add) ?? [];
  const seen = new Set<string>();
  for (const server of servers) {
    const problem = nameProblem(server, "server name");
    if (problem) add(`${key}.servers`, problem, EXAMPLES.servers);
    if (seen.has(server)) add(`${key}.servers`, `"${server}" is listed twice`, EXAMPLES.servers);
    seen.add(server);
  }
  let idleTimeoutSeconds = DEFAULT_IDLE_TIMEOUT_SECONDS;
  if (table.idle_timeout !== undefined) {
    const value = table.idle_timeout;
    if (
      typeof value !== "number" ||
      !Number.isInteger(value) ||
      value < 1 ||
      value > MAX_IDLE_TIMEOUT_SECONDS
    ) {
      add(
        `${key}.idle_timeout`,
        `must be a whole number of seconds from 1 to ${MAX_IDLE_TIMEOUT_SECONDS}, got ${JSON.stringify(value)}`,
        EXAMPLES.idle_timeout,
      );
    } else idleTimeoutSeconds = value;
  }
  const release = stringOr(table.release, `${key}.release`, EXAMPLES.release, add);
  return { name: env, routes, servers, idleTimeoutSeconds, release };
}

function parseVars(
  raw: unknown,
  envNames: readonly string[],
  add: Add,
): { vars: Record<string, string>; envVars: Record<string, Record<string, string>> } {
  const vars: Record<string, string> = {};
  const envVars: Record<string, Record<string, string>> = {};
  const table = tableOr(raw, "vars", EXAMPLES.vars, add);
  if (!table) return { vars, envVars };
  const scalars = (entries: Record<string, unknown>, prefix: string, into: Record<string, string>) => {
    for (const [name, value] of Object.entries(entries)) {
      const key = `${prefix}.${tomlKey(name)}`;
      if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") {
        into[name] = String(value);
        const problem = variableProblem("vars", name, into[name]);
        if (problem) add(key, problem, EXAMPLES.vars);
      } else add(key, "variables must be a string, a number or a boolean", EXAMPLES.vars);
    }
  };
  const top: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(table)) {
    if (isPlainTable(value)) {
      const key = `vars.${tomlKey(name)}`;
      if (!envNames.includes(name) && name !== "development") {
        add(key, `there is no [envs.${name}] for these variables`, `[vars.production]\nLOG_LEVEL = "warn"`);
      }
      envVars[name] = {};
      scalars(value, key, envVars[name]);
    } else top[name] = value;
  }
  scalars(top, "vars", vars);
  return { vars, envVars };
}

function unknownKeys(
  table: Record<string, unknown>,
  known: readonly string[],
  prefix: string,
  add: Add,
): void {
  for (const key of Object.keys(table)) {
    if (known.includes(key)) continue;
    const path = prefix ? `${prefix}.${tomlKey(key)}` : tomlKey(key);
    const close = known.find((k) => editDistance(k, key) <= 2);
    const hint = close ? ` (did you mean "${close}"?)` : ` (known: ${known.join(", ")})`;
    const example = close ? (EXAMPLES[close as keyof typeof EXAMPLES] ?? `${close} = …`) : `${known[0]} = …`;
    add(path, `unknown setting "${key}"${hint}`, example);
  }
}

function stringOr(value: unknown, key: string, example: string, add: Add): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "string") return value;
  add(key, `must be a string, got ${describe(value)}`, example);
  return undefined;
}

function stringList(value: unknown, key: string, example: string, add: Add): string[] | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as string[];
  add(key, `must be a list of strings, got ${describe(value)}`, example);
  return undefined;
}

function tableOr(
  value: unknown,
  key: string,
  example: string,
  add: Add,
): Record<string, unknown> | undefined {
  if (value === undefined) return undefined;
  if (isPlainTable(value)) return value;
  add(key, `must be a table, got ${describe(value)}`, example);
  return undefined;
}

function isPlainTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (isPlainTable(value)) return "a table";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min((row[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row[j] ?? 0;
      row[j] = next;
    }
  }
  return row[b.length] ?? 0;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
