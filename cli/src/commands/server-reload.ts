import { DAEMONS } from "@tako/daemon";
import type { Argv, CommandModule } from "yargs";
import { type GlobalArgs, handle } from "../context.js";
import { withLocalAgent } from "../local-host-client.js";
import { rootOption } from "./root-option.js";

interface ReloadArgs {
  readonly root: string;
  readonly daemon: string;
}

export const serverReloadCommand: CommandModule<GlobalArgs, ReloadArgs & GlobalArgs> = {
  command: "reload <daemon>",
  describe:
    "Replace one daemon's process without dropping a call: the successor takes the socket, the old one drains",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional("daemon", {
        type: "string",
        choices: DAEMONS,
        describe: "Daemon to reload",
        demandOption: true,
      })
      .option("root", rootOption) as unknown as Argv<ReloadArgs & GlobalArgs>,
  handler: handle<ReloadArgs>(async (args, term) => {
    const progress = term.progress(`Reloading ${args.daemon}…`);
    try {
      const res = await withLocalAgent(
        args.root,
        (agent) => agent.reloadDaemon({ daemon: args.daemon }),
        60_000,
      );
      progress.done(`Reloaded ${res.daemon}: pid ${res.oldPid} → ${res.newPid}`);
      term.result("", { ok: true, daemon: res.daemon, oldPid: res.oldPid, newPid: res.newPid });
    } catch (err) {
      progress.fail(`Reload of ${args.daemon} failed`);
      throw err;
    }
  }),
};
