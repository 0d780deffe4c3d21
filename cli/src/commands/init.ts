import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { TakoError } from "@tako/errors";
import type { Argv, CommandModule } from "yargs";
import { configPath, parseAppConfig } from "../config/app-config.js";
import { loadGlobalConfig } from "../config/global-config.js";
import { nameProblem, suggestName } from "../config/names.js";
import { type GlobalArgs, handle } from "../context.js";

interface InitArgs {
  readonly name: string | undefined;
  readonly route: string | undefined;
  readonly server: string | undefined;
}

/** What `tako init` adds to .gitignore: keys and build output stay local; secrets.json is encrypted. */
export const GITIGNORE_BLOCK = `# tako: build output and secret keys stay on this machine; .tako/secrets.json is encrypted and committed
.tako/*
!.tako/secrets.json
`;

export const initCommand: CommandModule<GlobalArgs, InitArgs & GlobalArgs> = {
  command: "init",
  describe: "Write a tako.toml for the app in this directory and keep Tako's local files out of git",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option("name", { type: "string", describe: "App name (default: the directory's name)" })
      .option("route", { type: "string", describe: "Production route (default: <name>.example.com)" })
      .option("server", {
        type: "string",
        describe: "Production server (default: the first in `tako servers list`)",
      }) as unknown as Argv<InitArgs & GlobalArgs>,
  handler: handle<InitArgs>(async (args, term) => {
    const file = configPath(args.config);
    const appDir = dirname(file);
    if (existsSync(file)) {
      throw new TakoError("ALREADY_EXISTS", `${file} already exists`, {
        hint: "Edit it, or remove it and run `tako init` again.",
      });
    }
    const name = args.name ?? suggestName(basename(appDir)) ?? "my-app";
    const bad = nameProblem(name, "app name");
    if (bad)
      throw new TakoError("CONFIG_INVALID", bad, { hint: "Pass a valid one, e.g. tako init --name my-app" });
    const servers = [...(await loadGlobalConfig()).servers.keys()];
    const server = args.server ?? servers[0] ?? "web-1";
    const main = await detectMain(appDir);
    const text = `# How \`tako deploy\` builds and ships this app. Unknown keys are errors.
name = "${name}"
${main ? `main = "${main}"` : `# main = "server.js"   # the module whose default export handles requests`}

[envs.production]
route = "${args.route ?? `${name}.example.com`}"
servers = ["${server}"]
# idle_timeout = 300   # seconds without requests before a scaled-to-zero app stops

# [vars]
# LOG_LEVEL = "info"

# [build]
# command = "npm run build"
# assets = ["dist/client"]   # merged into public/, served by the edge
`;
    parseAppConfig(file, text); // what init writes must itself be valid
    if (args.dryRun) {
      term.result(text, { ok: true, dryRun: true, file, content: text });
      return;
    }
    await writeFile(file, text, { flag: "wx" });
    const ignored = await ensureGitignore(appDir);
    term.info(
      `Wrote ${file}${ignored ? "; .gitignore now keeps .tako/ (except secrets.json) out of git" : ""}.`,
    );
    if (servers.length === 0)
      term.info("Next: add a server with `tako servers add web-1 tako@<host>`, then `tako deploy`.");
    else term.info("Next: set the route, then `tako deploy`.");
    term.result("", { ok: true, file, name, gitignoreUpdated: ignored });
  }),
};

async function detectMain(appDir: string): Promise<string | undefined> {
  const pkg = await readFile(join(appDir, "package.json"), "utf8").then(
    (t) => JSON.parse(t) as { main?: unknown },
    () => undefined,
  );
  if (typeof pkg?.main === "string" && pkg.main) return pkg.main.replace(/^\.\//, "");
  return ["server.js", "server.mjs", "index.js", "index.mjs"].find((f) => existsSync(join(appDir, f)));
}

/** Adds the .tako block to .gitignore unless it is there; true when the file changed. */
async function ensureGitignore(appDir: string): Promise<boolean> {
  const path = join(appDir, ".gitignore");
  const current = await readFile(path, "utf8").catch(() => "");
  if (
    current.split("\n").some((l) => l.trim() === ".tako/*" || l.trim() === ".tako/" || l.trim() === ".tako")
  ) {
    return false;
  }
  const sep = current === "" || current.endsWith("\n") ? "" : "\n";
  await writeFile(path, `${current}${sep}${current ? "\n" : ""}${GITIGNORE_BLOCK}`);
  return true;
}
