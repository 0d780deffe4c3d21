import { existsSync } from "node:fs";
import { toJson } from "@bufbuild/protobuf";
import { TakoError } from "@tako/errors";
import { AppStatusSchema } from "@tako/proto";
import type { Argv, CommandModule } from "yargs";
import { configPath } from "../config/app-config.js";
import { loadGlobalConfig, type ServerEntry, serverNamed } from "../config/global-config.js";
import { type GlobalArgs, handle, sshFrom } from "../context.js";
import { formatAppStatuses, type StatusRow } from "../output/app-status.js";
import { reportOutcomes } from "../output/outcomes.js";
import { loadProject } from "../project.js";
import { onEveryServer } from "../remote/server-connection.js";

interface StatusArgs {
  readonly env: string | undefined;
}

export const statusCommand: CommandModule<GlobalArgs, StatusArgs & GlobalArgs> = {
  command: "status",
  describe: "Show the app's deployments (or, outside an app, every app on every server) with their instances",
  builder: (y: Argv<GlobalArgs>) =>
    y.option("env", { type: "string", describe: "Only this environment" }) as unknown as Argv<
      StatusArgs & GlobalArgs
    >,
  handler: handle<StatusArgs>(async (args, term) => {
    const global = await loadGlobalConfig();
    // In an app directory: that app's environments. Elsewhere: every app on every server.
    const inApp = args.config !== undefined || existsSync(configPath(undefined));
    const queries: { server: ServerEntry; app: string; env: string }[] = [];
    if (inApp) {
      const config = await loadProject(args);
      const envs = Object.values(config.envs).filter(
        (e) => e.name !== "development" && (!args.env || e.name === args.env),
      );
      if (envs.length === 0) {
        throw new TakoError(
          "CONFIG_INVALID",
          args.env ? `there is no [envs.${args.env}] in ${config.file}` : `${config.file} has no environment`,
          {
            hint: "Add one with route and servers, e.g. [envs.production].",
          },
        );
      }
      for (const env of envs)
        for (const name of env.servers)
          queries.push({ server: serverNamed(global, name), app: config.name, env: env.name });
    } else {
      if (global.servers.size === 0) {
        throw new TakoError("SERVER_NOT_FOUND", `no servers in ${global.file}`, {
          hint: "Add one with `tako servers add <name> <user@host>`, or run this in an app directory.",
        });
      }
      for (const server of global.servers.values()) queries.push({ server, app: "", env: args.env ?? "" });
    }
    const servers = [...new Map(queries.map((q) => [q.server.name, q.server])).values()];
    const outcomes = await onEveryServer(servers, sshFrom(args, term), async ({ server, agent }) => {
      const mine = queries.filter((q) => q.server.name === server.name);
      const found: StatusRow[] = [];
      for (const q of mine) {
        try {
          const r = await agent.client.status({ app: q.app, env: q.app ? q.env : "" });
          for (const status of r.apps.filter((a) => !q.env || a.env === q.env))
            found.push({ server: server.name, status });
        } catch (err) {
          if (!TakoError.is(err, "APP_NOT_FOUND") || !q.app) throw err;
          found.push({ server: server.name, missing: { app: q.app, env: q.env } });
        }
      }
      return found;
    });
    const rows = outcomes.flatMap((o) => (o.ok ? o.value : []));
    const rowJson = (r: StatusRow) =>
      "missing" in r
        ? { app: r.missing.app, env: r.missing.env, deployed: false }
        : toJson(AppStatusSchema, r.status);
    if (outcomes.every((o) => o.ok)) {
      term.result(formatAppStatuses(rows), {
        ok: true,
        servers: outcomes.map((o) => ({ server: o.server, apps: o.ok ? o.value.map(rowJson) : [] })),
      });
      return;
    }
    if (!term.mode.json && rows.length) term.info(formatAppStatuses(rows));
    reportOutcomes(
      term,
      outcomes,
      (apps) => `${apps.length} app(s)`,
      (apps) => apps.map(rowJson),
    );
  }),
};
