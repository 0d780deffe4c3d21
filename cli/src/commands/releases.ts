import { toJson } from "@bufbuild/protobuf";
import { type DeployDone, DeployDoneSchema, ReleaseInfoSchema } from "@tako/proto";
import type { Argv, CommandModule } from "yargs";
import { type GlobalArgs, handle, sshFrom } from "../context.js";
import { reportOutcomes } from "../output/outcomes.js";
import { formatTable } from "../output/table.js";
import { loadDeployTarget } from "../project.js";
import { onEveryServer } from "../remote/server-connection.js";

interface EnvArgs {
  readonly env: string;
}

const listCommand: CommandModule<GlobalArgs, EnvArgs & GlobalArgs> = {
  command: "list",
  aliases: ["ls"],
  describe: "List the releases kept on each server, newest first (* = live)",
  builder: (y: Argv<GlobalArgs>) =>
    y.option("env", { type: "string", default: "production" }) as unknown as Argv<EnvArgs & GlobalArgs>,
  handler: handle<EnvArgs>(async (args, term) => {
    const { deployment, servers } = await loadDeployTarget(args, args.env);
    const outcomes = await onEveryServer(
      servers,
      sshFrom(args, term),
      async ({ agent }) =>
        (await agent.client.listReleases({ app: deployment.app, env: deployment.env })).releases,
    );
    const rows = outcomes.flatMap((o) =>
      o.ok
        ? o.value.map((r) => [
            o.server,
            `${r.current ? "*" : " "} ${r.version}`,
            new Date(Number(r.deployedAtUnixMs)).toISOString().replace(/\.\d+Z$/, "Z"),
            `${r.commitMessage}${r.gitDirty ? " (dirty)" : ""}`,
          ])
        : [],
    );
    if (outcomes.every((o) => o.ok)) {
      term.result(
        rows.length ? formatTable(["SERVER", "  VERSION", "DEPLOYED", "COMMIT"], rows) : "No releases yet.",
        {
          ok: true,
          servers: outcomes.map((o) => ({
            server: o.server,
            releases: o.ok ? o.value.map((r) => toJson(ReleaseInfoSchema, r)) : [],
          })),
        },
      );
      return;
    }
    reportOutcomes(term, outcomes, (r) => `${r.length} release(s)`);
  }),
};

const rollbackCommand: CommandModule<GlobalArgs, EnvArgs & { release: string } & GlobalArgs> = {
  command: "rollback <release>",
  describe: "Roll every server of the environment back to a kept release (a rolling update; scale is kept)",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .positional("release", {
        type: "string",
        demandOption: true,
        describe: "Release version from `tako releases list`",
      })
      .option("env", { type: "string", default: "production" }) as unknown as Argv<
      EnvArgs & { release: string } & GlobalArgs
    >,
  handler: handle<EnvArgs & { release: string }>(async (args, term) => {
    const { deployment, servers } = await loadDeployTarget(args, args.env);
    if (args.dryRun) {
      term.result(`Dry run: would roll ${deployment.app}/${deployment.env} back to ${args.release}.`, {
        ok: true,
        dryRun: true,
      });
      return;
    }
    const progress = term.progress(`Rolling ${deployment.app}/${deployment.env} back to ${args.release}…`);
    const outcomes = await onEveryServer(servers, sshFrom(args, term), async ({ server, agent }) => {
      let done: DeployDone | undefined;
      const stream = agent.client.rollback(
        { app: deployment.app, env: deployment.env, version: args.release },
        { timeoutMs: 30 * 60_000 },
      );
      for await (const msg of stream) {
        if (msg.msg.case === "step") {
          const s = msg.msg.value;
          if (s.finished)
            progress.log(
              `  ${server.name}: ✓ ${s.name} (${s.durationMs} ms)${s.detail ? ` ${s.detail}` : ""}`,
            );
          else progress.update(`Rolling back ${server.name}: ${s.name}…`);
        } else if (msg.msg.case === "done") done = msg.msg.value;
      }
      if (!done) throw new Error("the server ended the rollback without reporting it done");
      return done;
    });
    if (outcomes.every((o) => o.ok))
      progress.done(`Rolled ${deployment.app}/${deployment.env} back to ${args.release}`);
    else progress.fail("Rollback failed");
    reportOutcomes(
      term,
      outcomes,
      (d) => `${d.version} is live${d.previousVersion ? ` (was ${d.previousVersion})` : ""}`,
      (d) => toJson(DeployDoneSchema, d),
    );
  }),
};

export const releasesCommand: CommandModule<GlobalArgs, GlobalArgs> = {
  command: "releases <command>",
  describe: "List the releases kept on the servers, or roll back to one",
  builder: (y: Argv<GlobalArgs>) =>
    y
      .command(listCommand)
      .command(rollbackCommand)
      .demandCommand(1, "Name a releases command: list or rollback."),
  handler: () => undefined,
};
