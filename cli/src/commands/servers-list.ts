import type { Argv, CommandModule } from "yargs";
import { loadGlobalConfig } from "../config/global-config.js";
import { type GlobalArgs, handle } from "../context.js";
import { formatTable } from "../output/table.js";

export const serversListCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: "list",
  aliases: ["ls"],
  describe: "List the servers in the global config",
  builder: (y: Argv<GlobalArgs>) => y,
  handler: handle(async (_args, term) => {
    const config = await loadGlobalConfig();
    const servers = [...config.servers.values()];
    if (servers.length === 0)
      term.info(`No servers yet in ${config.file}. Add one with \`tako servers add <name> <user@host>\`.`);
    const rows = servers.map((s) => [s.name, `${s.user}@${s.host}`, String(s.port), s.root, s.sshKey ?? "-"]);
    term.result(servers.length ? formatTable(["NAME", "LOGIN", "PORT", "ROOT", "SSH KEY"], rows) : "", {
      ok: true,
      servers: servers.map((s) => ({
        name: s.name,
        host: s.host,
        port: s.port,
        user: s.user,
        root: s.root,
        sshKey: s.sshKey ?? null,
      })),
    });
  }),
};
