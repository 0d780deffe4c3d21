import { TakoError } from "@tako/errors";
import type { Argv, CommandModule } from "yargs";
import { type GlobalArgs, handle, sshFrom } from "../context.js";
import { reportOutcomes } from "../output/outcomes.js";
import { loadDeployTarget } from "../project.js";
import { onEveryServer } from "../remote/server-connection.js";

interface ScaleArgs {
  readonly instances: number;
  readonly env: string;
  readonly server: string | undefined;
}

/** Upper bound on a desired instance count, so a typo cannot fork-bomb a server. */
const MAX_INSTANCES = 64;

export const scaleCommand: CommandModule<GlobalArgs, ScaleArgs & GlobalArgs> = {
  command: "scale <instances>",
  describe: "Set how many instances run on each server of the environment (0: idle until a request comes)",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional("instances", {
        type: "number",
        demandOption: true,
        describe: "Desired instances per server",
      })
      .option("env", { type: "string", default: "production" })
      .option("server", { type: "string", describe: "Only this server of the environment" })
      .example("$0 scale 3", "Three instances on every production server")
      .example("$0 scale 0 --env staging", "Scale staging to zero") as unknown as Argv<
      ScaleArgs & GlobalArgs
    >,
  handler: handle<ScaleArgs>(async (args, term) => {
    const n = args.instances;
    if (!Number.isInteger(n) || n < 0 || n > MAX_INSTANCES) {
      throw new TakoError(
        "CONFIG_INVALID",
        `the instance count must be a whole number from 0 to ${MAX_INSTANCES}, got ${n}`,
        {
          hint: "For example: tako scale 2",
        },
      );
    }
    const { deployment, servers } = await loadDeployTarget(args, args.env, args.server);
    if (args.dryRun) {
      term.result(
        `Dry run: would scale ${deployment.app}/${deployment.env} to ${n} on ${servers.map((s) => s.name).join(", ")}.`,
        {
          ok: true,
          dryRun: true,
        },
      );
      return;
    }
    const outcomes = await onEveryServer(servers, sshFrom(args, term), ({ agent }) =>
      agent.client.scale({ app: deployment.app, env: deployment.env, instances: n }),
    );
    reportOutcomes(
      term,
      outcomes,
      (r) => `${r.app}/${r.env} scaled to ${r.instances}`,
      (r) => ({ app: r.app, env: r.env, instances: r.instances }),
    );
  }),
};
