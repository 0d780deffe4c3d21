import type { Argv, CommandModule } from "yargs";
import type { GlobalArgs } from "../context.js";
import { serverReloadCommand } from "./server-reload.js";
import { serverStartCommand } from "./server-start.js";
import { serverStatusCommand } from "./server-status.js";
import { serverStopCommand } from "./server-stop.js";

export const serverCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: "server <command>",
  describe: "Run the Tako daemon set on this machine (the local host)",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .command(serverStartCommand)
      .command(serverStopCommand)
      .command(serverStatusCommand)
      .command(serverReloadCommand)
      .demandCommand(1, "Name a server command: start, stop, status or reload."),
  handler: () => undefined,
};
