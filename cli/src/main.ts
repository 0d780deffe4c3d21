import { TAKO_VERSION } from "@tako/daemon";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { deleteCommand } from "./commands/delete.js";
import { deployCommand } from "./commands/deploy.js";
import { initCommand } from "./commands/init.js";
import { logsCommand } from "./commands/logs.js";
import { releasesCommand } from "./commands/releases.js";
import { scaleCommand } from "./commands/scale.js";
import { secretsCommand } from "./commands/secrets.js";
import { serverCommand } from "./commands/server.js";
import { serversCommand } from "./commands/servers.js";
import { statusCommand } from "./commands/status.js";
import type { GlobalArgs } from "./context.js";

const cli = yargs(hideBin(process.argv))
  .scriptName("tako")
  .usage("$0 <command> [options]\n\nDeploy apps to your own servers with zero downtime.")
  .option("json", {
    type: "boolean",
    default: false,
    global: true,
    describe: "Print the result as JSON on stdout",
  })
  .option("ci", {
    type: "boolean",
    default: false,
    global: true,
    describe: "Plain, deterministic output: no colour, no spinners",
  })
  .option("verbose", {
    alias: "v",
    type: "boolean",
    default: false,
    global: true,
    describe: "Print more detail",
  })
  .option("dry-run", {
    type: "boolean",
    default: false,
    global: true,
    describe: "Show what would happen, change nothing",
  })
  .option("config", {
    alias: "c",
    type: "string",
    global: true,
    describe: "Path to tako.toml (default: ./tako.toml)",
  })
  .option("ssh-key", {
    type: "string",
    global: true,
    describe: "Private key for SSH logins (default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa, then ssh-agent)",
  })
  .command(serverCommand as never)
  .command(initCommand as never)
  .command(deployCommand as never)
  .command(statusCommand as never)
  .command(scaleCommand as never)
  .command(logsCommand as never)
  .command(releasesCommand as never)
  .command(secretsCommand as never)
  .command(deleteCommand as never)
  .command(serversCommand as never)
  .demandCommand(1, "Name a command; `tako --help` lists them.")
  .strict()
  .version(TAKO_VERSION)
  .help()
  .wrap(Math.min(110, process.stdout.columns ?? 110))
  .fail((msg, err, y) => {
    if (err) throw err;
    process.stderr.write(`${y.help() ? "" : ""}Error: ${msg}\n  → Run \`tako --help\` for usage.\n`);
    process.exit(2);
  });

await cli.parseAsync();

export type { GlobalArgs };
