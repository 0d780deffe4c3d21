import type { Argv, CommandModule } from "yargs";
import type { GlobalArgs } from "../context.js";
import { serversAddCommand } from "./servers-add.js";
import { serversListCommand } from "./servers-list.js";
import { serversRemoveCommand } from "./servers-remove.js";
import { serversSetupWildcardCommand } from "./servers-setup-wildcard.js";

export const serversCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: "servers <command>",
  describe: "Manage the servers you deploy to (the global config)",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .command(serversAddCommand)
      .command(serversListCommand)
      .command(serversRemoveCommand)
      .command(serversSetupWildcardCommand)
      .demandCommand(1, "Name a servers command: add, list, remove or setup-wildcard."),
  handler: () => undefined,
};
