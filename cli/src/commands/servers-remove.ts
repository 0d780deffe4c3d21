import type { Argv, CommandModule } from "yargs";
import { loadGlobalConfig, saveGlobalConfig, serverNamed } from "../config/global-config.js";
import { type GlobalArgs, handle } from "../context.js";

interface RemoveArgs {
  readonly name: string;
}

export const serversRemoveCommand: CommandModule<GlobalArgs, RemoveArgs & GlobalArgs> = {
  command: "remove <name>",
  aliases: ["rm"],
  describe: "Forget a server (nothing on the server changes)",
  builder: (y: Argv<GlobalArgs>) =>
    y.positional("name", { type: "string", demandOption: true }) as unknown as Argv<RemoveArgs & GlobalArgs>,
  handler: handle<RemoveArgs>(async (args, term) => {
    const config = await loadGlobalConfig();
    const server = serverNamed(config, args.name);
    if (args.dryRun) {
      term.result(`Dry run: would remove ${server.name} from ${config.file}.`, {
        ok: true,
        dryRun: true,
        server: server.name,
      });
      return;
    }
    await saveGlobalConfig(
      config.file,
      [...config.servers.values()].filter((s) => s.name !== server.name),
    );
    term.result(`Removed ${server.name} from ${config.file}. Apps on it keep running.`, {
      ok: true,
      removed: server.name,
    });
  }),
};
