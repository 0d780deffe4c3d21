import { toJson } from "@bufbuild/protobuf";
import { hostPaths, launcherPidPath, readLauncherState } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import { isLauncherAlive, readLauncherPid } from "@tako/host";
import { type ServerInfoResponse, ServerInfoResponseSchema } from "@tako/proto";
import type { Argv, CommandModule } from "yargs";
import { type GlobalArgs, handle } from "../context.js";
import { withLocalAgent } from "../local-host-client.js";
import { formatServerInfo } from "../output/server-info.js";
import { rootOption } from "./root-option.js";

interface StatusArgs {
  readonly root: string;
}

/** ServerInfo of the host under `root`, or an error saying whether it runs at all. */
export async function localServerInfo(root: string): Promise<ServerInfoResponse> {
  try {
    return await withLocalAgent(root, (agent) => agent.serverInfo({}), 5_000);
  } catch (err) {
    const paths = hostPaths(root);
    const launcher = await readLauncherPid(launcherPidPath(paths.runDir));
    if (!launcher || !(await isLauncherAlive(launcher))) {
      throw new TakoError("HOST_NOT_RUNNING", `no Tako host is running under ${root}`, {
        hint: `Start one with \`tako server start --root ${root}\`.`,
      });
    }
    const state = await readLauncherState(paths.runDir);
    const why = state?.daemons.agentd?.detail;
    throw new TakoError(
      "DAEMON_UNREACHABLE",
      `the local host (pid ${launcher.pid}) runs under ${root}, but agentd does not answer${why ? `: ${why}` : ""}`,
      {
        cause: err,
        hint: `Check the log in ${paths.logDir}/server.log, or restart with \`tako server stop --root ${root}\` then \`tako server start --root ${root}\`.`,
      },
    );
  }
}

export const serverStatusCommand: CommandModule<GlobalArgs, StatusArgs & GlobalArgs> = {
  command: "status",
  describe: "Show every daemon of the host with its PID, socket and health",
  builder: (y: Argv<GlobalArgs>) => y.option("root", rootOption) as unknown as Argv<StatusArgs & GlobalArgs>,
  handler: handle<StatusArgs>(async (args, term) => {
    const info = await localServerInfo(args.root);
    term.result(formatServerInfo(info), toJson(ServerInfoResponseSchema, info));
  }),
};
