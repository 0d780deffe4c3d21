import { readdir } from "node:fs/promises";
import { hostPaths, launcherPidPath } from "@tako/daemon";
import { TakoError } from "@tako/errors";
import { isLauncherAlive, readLauncherPid } from "@tako/host";
import { probeSocket } from "@tako/rpc";
import type { Argv, CommandModule } from "yargs";
import { type GlobalArgs, handle } from "../context.js";
import { rootOption } from "./root-option.js";

interface StopArgs {
  readonly root: string;
  readonly timeout: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const serverStopCommand: CommandModule<GlobalArgs, StopArgs & GlobalArgs> = {
  command: "stop",
  describe: "Stop the local host under a root directory: every daemon drains, then exits",
  builder: (y: Argv<GlobalArgs>) =>
    y.option("root", rootOption).option("timeout", {
      type: "number",
      default: 90,
      describe: "Seconds to wait for a clean stop before killing",
    }) as unknown as Argv<StopArgs & GlobalArgs>,
  handler: handle<StopArgs>(async (args, term) => {
    const paths = hostPaths(args.root);
    const launcher = await readLauncherPid(launcherPidPath(paths.runDir));
    if (!launcher || !(await isLauncherAlive(launcher))) {
      const live = await liveSockets(paths.runDir);
      if (live.length > 0) {
        throw new TakoError(
          "DAEMON_UNREACHABLE",
          `daemons serve under ${args.root} (${live.join(", ")}) but no local host launcher owns them`,
          {
            hint: "They were started another way (systemd?); stop them there.",
          },
        );
      }
      term.result(`No Tako host is running under ${args.root}.`, { ok: true, stopped: false });
      return;
    }
    const progress = term.progress(`Stopping the local host under ${args.root} (pid ${launcher.pid})…`);
    process.kill(launcher.pid, "SIGTERM");
    const deadline = Date.now() + args.timeout * 1000;
    while ((await isLauncherAlive(launcher)) && Date.now() < deadline) await sleep(50);
    if (await isLauncherAlive(launcher)) {
      // Its workers notice their master is gone and drain on their own.
      process.kill(launcher.pid, "SIGKILL");
      progress.fail(`The launcher did not stop within ${args.timeout} s and was killed`);
    }
    const live = await liveSockets(paths.runDir);
    if (live.length > 0) {
      throw new TakoError("DAEMON_UNREACHABLE", `still serving after stop: ${live.join(", ")}`, {
        hint: "Wait a few seconds and run `tako server stop` again.",
      });
    }
    progress.done(`Stopped the local host under ${args.root}`);
    term.result("", { ok: true, stopped: true, pid: launcher.pid });
  }),
};

/** Socket files in the run directory that a process still listens on. */
async function liveSockets(runDir: string): Promise<string[]> {
  const files = await readdir(runDir).catch(() => [] as string[]);
  const sockets = files.filter((f) => f.endsWith(".sock"));
  const probes = await Promise.all(
    sockets.map(async (f) => ((await probeSocket(`${runDir}/${f}`, 500)) === "listening" ? f : "")),
  );
  return probes.filter(Boolean);
}
