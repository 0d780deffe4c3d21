import { randomBytes } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { TakoError } from "@tako/errors";
import { stringify } from "smol-toml";
import { nameProblem } from "./names.js";
import { type ConfigProblem, TomlSource, tomlKey } from "./toml-source.js";

/** A server of the global config: where to SSH and where Tako's paths hang off. */
export interface ServerEntry {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly user: string;
  /** Root directory of the host ("/" for a real server). */
  readonly root: string;
  /** Private key to use for this server, exclusively. */
  readonly sshKey: string | undefined;
}

export interface GlobalConfig {
  readonly file: string;
  readonly servers: ReadonlyMap<string, ServerEntry>;
}

export const DEFAULT_SSH_USER = "tako";
const SERVER_KEYS = ["host", "port", "user", "root", "ssh_key"];
const EXAMPLE = '[servers.web-1]\nhost = "203.0.113.10"\nuser = "tako"';

/** $TAKO_HOME, else $XDG_CONFIG_HOME/tako, else ~/.config/tako. */
export function takoHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TAKO_HOME) return env.TAKO_HOME;
  const xdg = env.XDG_CONFIG_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), ".config"), "tako");
}

export function globalConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(takoHome(env), "config.toml");
}

/** Reads config.toml (a missing file is an empty config); unknown keys are errors. */
export async function loadGlobalConfig(file = globalConfigPath()): Promise<GlobalConfig> {
  const text = await readFile(file, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return "";
    throw new TakoError("CONFIG_INVALID", `cannot read ${file}: ${err.message}`, { cause: err });
  });
  const source = new TomlSource(file, text);
  const doc = source.parse(`  ${EXAMPLE.replaceAll("\n", "\n  ")}`);
  const problems: ConfigProblem[] = [];
  const add = (key: string, problem: string, example = EXAMPLE) => problems.push({ key, problem, example });
  const servers = new Map<string, ServerEntry>();
  for (const key of Object.keys(doc))
    if (key !== "servers") add(key, `unknown setting "${key}" (known: servers)`);
  const table = doc.servers ?? {};
  if (!isTable(table)) add("servers", "must be a table of servers");
  else {
    for (const [name, raw] of Object.entries(table)) {
      const key = `servers.${tomlKey(name)}`;
      const bad = nameProblem(name, "server name");
      if (bad) add(key, bad);
      if (!isTable(raw)) {
        add(key, "must be a table");
        continue;
      }
      for (const k of Object.keys(raw)) {
        if (!SERVER_KEYS.includes(k))
          add(`${key}.${tomlKey(k)}`, `unknown setting "${k}" (known: ${SERVER_KEYS.join(", ")})`);
      }
      const host = raw.host;
      if (typeof host !== "string" || host === "")
        add(`${key}.host`, "a server needs a host", 'host = "203.0.113.10"');
      const port = raw.port ?? 22;
      if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
        add(`${key}.port`, `must be a port number from 1 to 65535, got ${JSON.stringify(port)}`, "port = 22");
      }
      const user = raw.user ?? DEFAULT_SSH_USER;
      if (typeof user !== "string" || user === "") add(`${key}.user`, "must be a user name", 'user = "tako"');
      const root = raw.root ?? "/";
      if (typeof root !== "string" || !isAbsolute(root))
        add(`${key}.root`, "must be an absolute directory", 'root = "/"');
      const sshKey = raw.ssh_key;
      if (sshKey !== undefined && typeof sshKey !== "string")
        add(`${key}.ssh_key`, "must be a path", 'ssh_key = "~/.ssh/id_ed25519"');
      servers.set(name, {
        name,
        host: String(host),
        port: Number(port),
        user: String(user),
        root: String(root),
        sshKey: typeof sshKey === "string" ? sshKey : undefined,
      });
    }
  }
  if (problems.length) source.fail(problems);
  return { file, servers };
}

/** Writes config.toml atomically (temp file + rename), servers sorted by name. */
export async function saveGlobalConfig(file: string, servers: Iterable<ServerEntry>): Promise<void> {
  const table: Record<string, Record<string, string | number>> = {};
  for (const s of [...servers].sort((a, b) => a.name.localeCompare(b.name))) {
    table[s.name] = {
      host: s.host,
      port: s.port,
      user: s.user,
      root: s.root,
      ...(s.sshKey ? { ssh_key: s.sshKey } : {}),
    };
  }
  const dir = join(file, "..");
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
  const header = "# Servers the tako CLI deploys to; managed by `tako servers add|remove`.\n";
  await writeFile(tmp, `${header}${stringify({ servers: table })}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

/** The named server, or SERVER_NOT_FOUND listing the known ones. */
export function serverNamed(config: GlobalConfig, name: string): ServerEntry {
  const server = config.servers.get(name);
  if (server) return server;
  const known = [...config.servers.keys()];
  throw new TakoError("SERVER_NOT_FOUND", `no server named "${name}" in ${config.file}`, {
    metadata: { server: name },
    hint: known.length
      ? `Known servers: ${known.join(", ")}. Add this one with \`tako servers add ${name} <user@host>\`.`
      : `Add it with \`tako servers add ${name} <user@host>\`.`,
  });
}

/** Expands a leading "~/" against the user's home. */
export function expandHome(path: string, home: string): string {
  return path === "~" ? home : path.startsWith("~/") ? join(home, path.slice(2)) : path;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
