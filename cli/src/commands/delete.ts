import { TakoError } from "@tako/errors";
import type { Argv, CommandModule } from "yargs";
import { type GlobalArgs, handle, sshFrom } from "../context.js";
import { reportOutcomes } from "../output/outcomes.js";
import { loadDeployTarget } from "../project.js";
import { onEveryServer } from "../remote/server-connection.js";

interface DeleteArgs {
  readonly env: string;
  readonly server: string | undefined;
  readonly yes: boolean;
}

export const deleteCommand: CommandModule<GlobalArgs, DeleteArgs & GlobalArgs> = {
  command: "delete",
  aliases: ["undeploy"],
  describe: "Stop the app's environment and remove its routes, releases, data and secrets from its servers",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .option("env", { type: "string", default: "production" })
      .option("server", { type: "string", describe: "Only this server of the environment" })
      .option("yes", {
        alias: "y",
        type: "boolean",
        default: false,
        describe: "Confirm: this deletes the app's data",
      }) as unknown as Argv<DeleteArgs & GlobalArgs>,
  handler: handle<DeleteArgs>(async (args, term) => {
    const { deployment, servers } = await loadDeployTarget(args, args.env, args.server);
    const names = servers.map((s) => s.name).join(", ");
    if (args.dryRun) {
      term.result(`Dry run: would delete ${deployment.app}/${deployment.env} from ${names}.`, {
        ok: true,
        dryRun: true,
      });
      return;
    }
    if (!args.yes) {
      throw new TakoError(
        "CONFIG_INVALID",
        `deleting ${deployment.app}/${deployment.env} from ${names} removes its releases and data`,
        {
          hint: `Run it again with --yes to confirm: tako delete --env ${deployment.env} --yes`,
        },
      );
    }
    const outcomes = await onEveryServer(servers, sshFrom(args, term), ({ agent }) =>
      agent.client.deleteApp({ app: deployment.app, env: deployment.env }),
    );
    reportOutcomes(
      term,
      outcomes,
      (r) => (r.existed ? `${deployment.app}/${deployment.env} deleted` : "nothing to delete"),
      (r) => ({ existed: r.existed }),
    );
  }),
};
